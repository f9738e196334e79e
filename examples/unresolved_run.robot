*** Settings ***
Documentation     React to a run that ends ``unresolved``: by default a wait fails with the
...               failed work items in its message; with ``fail_on_unresolved=False`` it
...               returns the run, and the robot decides.

Library           ProcessRunLibrary    workspace_id=example-workspace    api_key=${API KEY}
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator


*** Variables ***
${API KEY}    example-key-not-a-secret


*** Test Cases ***
An unresolved run fails the wait and says why
    ${id} =    Start Process Run    orders    payload={"order": 42}
    ${message} =    Run Keyword And Expect Error    *
    ...    Wait Until Process Run Completes    ${id}    timeout=1 minute
    Should Contain    ${message}    ended unresolved
    Should Contain    ${message}    (business exception NO_CUSTOMER: Order 42 has no customer.)

The robot decides what an unresolved run means
    ${run} =    Start Process Run And Wait    orders    fail_on_unresolved=False
    ...    timeout=1 minute
    IF    $run.state == "unresolved"
        Log    ${run.process.name} needs a person: run ${run.id} ended unresolved.    WARN
    END
    Should Be Equal    ${run.state}    unresolved


*** Keywords ***
Start The Emulator
    ${url} =    Start Emulator    example-workspace    ${API KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    emulator    api_url=${url}
