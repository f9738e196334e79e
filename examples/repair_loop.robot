*** Settings ***
Documentation     The repair loop of an orchestration robot, against the bundled emulator:
...               feed a process its input queue (payloads and files), wait for the run,
...               find the work items that failed, fix their payloads, retry them, and
...               wait again until the run is ``completed``. Run it with
...
...               ``robot --outputdir results/example examples/repair_loop.robot``
...
...               The process ``orders`` of ``emulator-config.json`` fails its first
...               work item with a business exception (``NO_CUSTOMER``); a retry
...               succeeds, as a process does once its input is fixed. Against your
...               Control Room, drop the emulator and give the library your
...               ``workspace_id`` and ``api_key``; ``Get Process Id`` finds the
...               process by its name.

Library           Collections
Library           OperatingSystem
Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
...                   timeout=1 minute    poll_interval=2 s
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret


*** Test Cases ***
Failed orders are fixed and retried until the run completes
    ${process} =    Get Process Id    Import orders
    Create File    ${OUTPUT DIR}/order-42.csv    sku,quantity\nA-1,3\n
    ${first} =    Create Input Work Item    ${process}    {"order": 42}
    ...    files=${OUTPUT DIR}/order-42.csv
    Create Input Work Item    ${process}    {"order": 43, "customer": "ACME"}
    ${run id} =    Start Process Run    ${process}    use_input_queue=True
    ${run} =    Wait Until Process Run Completes    ${run id}    fail_on_unresolved=False
    IF    $run.state == "unresolved"    Repair And Retry    ${run id}
    ${run} =    Wait Until Process Run Completes    ${run id}
    Should Be Equal    ${run.state}    completed
    ${item} =    Get Work Item    ${first}
    Should Be Equal    ${item.state}    done
    Should Be Equal    ${item.payload.customer}    Unknown customer
    Should Be Equal    ${item.files}[0][name]    order-42.csv


*** Keywords ***
Repair And Retry
    [Documentation]    Gives every failed item of the run that lacks a customer a
    ...    placeholder customer, then retries the failed items.
    [Arguments]    ${run id}
    ${failed} =    List Work Items    process_run_id=${run id}    state=failed
    FOR    ${summary}    IN    @{failed}
        Log    ${summary.id} failed: ${summary.exception.code}: ${summary.exception.message}
        IF    $summary.exception.code != "NO_CUSTOMER"    CONTINUE
        ${item} =    Get Work Item    ${summary.id}
        Set To Dictionary    ${item.payload}    customer=Unknown customer
        Update Work Item Payload    ${item.id}    ${item.payload}
    END
    Retry Work Items    ${failed}

Start The Emulator
    ${url} =    Start Emulator    example-workspace    ${API KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    emulator    api_url=${url}
