*** Settings ***
Documentation     Several processes at once: start them all, wait for them together (one
...               group wait polls far less than one wait per run), then collect what
...               each run produced.

Library           Collections
Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret


*** Test Cases ***
Run three processes in parallel and collect their outputs
    ${ids} =    Create List
    FOR    ${process}    IN    invoices    reports
        ${id} =    Start Process Run    ${process}
        Append To List    ${ids}    ${id}
    END
    # The mailbox process takes the work items waiting in its input queue.
    ${id} =    Start Process Run    mailbox    use_input_queue=True
    Append To List    ${ids}    ${id}
    ${runs} =    Wait Until Process Runs Complete    ${ids}    timeout=1 minute
    ${outputs} =    Create Dictionary
    FOR    ${run}    IN    @{runs}
        Should Be Equal    ${run.state}    completed
        ${items} =    List Process Run Outputs    ${run.id}
        Set To Dictionary    ${outputs}    ${run.process.id}=${items}
    END
    Length Should Be    ${outputs}[reports]    1
    Should Be Equal    ${outputs}[reports][0][files][0][name]    report.csv
    Length Should Be    ${outputs}[mailbox]    3


*** Keywords ***
Start The Emulator
    ${url} =    Start Emulator    example-workspace    ${API KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    emulator    api_url=${url}
