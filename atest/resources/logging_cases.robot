*** Settings ***
Documentation    Run by logging.robot in a child robot at TRACE; logging.robot reads the
...              messages from the child's output.xml.

Resource         common.resource


*** Test Cases ***
Start, Get And Wait
    ${id} =    Start Process Run    quick    payload={"order": 1}
    Set Suite Metadata    run    ${id}
    Get Process Run    ${id}
    Wait Until Process Run Completes    ${id}

Start With A Key Given Positionally
    Create Control Room Session    positional    ${API_URL}    ${WORKSPACE_ID}    ${API_KEY}
    Get Process Run State    ${{"nope"}}
