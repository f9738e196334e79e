*** Settings ***
Documentation    Run by step_runs.robot as a child robot, with robot and with pabot: a parent
...              robot that waits for a child run that fails, with download_artifacts=True.
...              The test fails on purpose; step_runs.robot checks its message and its log.

Resource         common.resource

Suite Setup      Define The Failing Child


*** Test Cases ***
Parent Waits For A Failing Child
    ${id} =    Start Process Run    ${CHILD}    payload={"invoice": 7}
    Set Suite Metadata    run    ${id}
    Wait Until Process Run Completes    ${id}    download_artifacts=True


*** Keywords ***
Define The Failing Child
    ${name} =    Set Variable    child-${{uuid.uuid4().hex[:8]}}
    Set Suite Variable    ${CHILD}    ${name}
    Emulator.Define Process    ${name}    new_seconds=0.1 s    run_seconds=0.4 s
    ...    outcome=unresolved
    ...    failures=[{"type": "business", "code": "INVALID_PDF", "message": "No PDF in the mail."}]
    Set Suite Metadata    child    ${name}
