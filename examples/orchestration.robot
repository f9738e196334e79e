*** Settings ***
Documentation     Orchestrating Control Room processes from a robot, against the bundled
...               emulator: no Control Room needed. Run it with
...
...               ``robot --outputdir results/example examples/``
...
...               The emulator runs the processes of ``emulator-config.json`` ten times
...               faster than they are described, so the whole suite takes seconds.
...               To run the same tests against your Control Room, drop the emulator and
...               give the library your ``workspace_id`` and ``api_key`` (or set
...               ``RC_WORKSPACE_ID`` and ``RC_API_KEY``).

Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
...                   timeout=1 minute    poll_interval=2 s
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret


*** Test Cases ***
Invoices are processed and each one gets an output
    ${invoices} =    Evaluate    [{"invoice": f"INV-{n}", "amount": 100 * n} for n in range(1, 4)]
    ${run} =    Start Process Run And Wait    invoices    payloads=${invoices}
    Should Be Equal    ${run.state}    completed
    Log    ${run.process.name} took ${run.duration} seconds.
    ${outputs} =    List Process Run Outputs    ${run.id}
    Length Should Be    ${outputs}    3

Several processes run in parallel and are awaited together
    ${invoices} =    Start Process Run    invoices
    ${report} =    Start Process Run    reports
    ${mail} =    Start Process Run    mailbox    use_input_queue=True
    ${runs} =    Wait Until Process Runs Complete    ${{[$invoices, $report, $mail]}}
    FOR    ${run}    IN    @{runs}
        Should Be Equal    ${run.state}    completed
    END
    ${files} =    List Process Run Outputs    ${report}
    Should Be Equal    ${files}[0][files][0][name]    report.csv

A failed run tells why it failed
    ${id} =    Start Process Run    orders    payload={"order": 42}
    ${run} =    Wait Until Process Run Completes    ${id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${expected} =    Catenate
    ...    Process run ${id} of process 'Import orders' ended unresolved;
    ...    by Control Room's clock it ran * (business exception NO_CUSTOMER: *
    Run Keyword And Expect Error    ${expected}
    ...    Wait Until Process Run Completes
    ...    ${id}

A run that does not end in time is stopped
    ${id} =    Start Process Run    watcher
    Run Keyword And Expect Error    *Asked Control Room to stop it: the stop was accepted.
    ...    Wait Until Process Run Completes    ${id}    timeout=3 s    on_timeout=stop
    ${run} =    Wait Until Process Run Completes    ${id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved

Ended runs are cleaned up
    ${runs} =    List Process Runs    state=completed
    FOR    ${run}    IN    @{runs}
        Delete Process Run    ${run.id}
    END
    ${left} =    List Process Runs    state=completed
    Should Be Empty    ${left}


*** Keywords ***
Start The Emulator
    ${url} =    Start Emulator    example-workspace    ${API KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    emulator    api_url=${url}
