*** Settings ***
Documentation    Run by waiting.robot in a child robot: both tests are meant to fail
...              with Robot's own timeout message, and to finish by themselves.

Resource         common.resource

Test Teardown    Stop Process Run    ${RUN}


*** Test Cases ***
Test Timeout Interrupts A Wait
    [Timeout]    1 second
    ${id} =    Start Process Run    forever
    Set Test Variable    ${RUN}    ${id}
    Wait Until Process Run Completes    ${id}    timeout=1 hour

Keyword Timeout Interrupts A Wait
    ${id} =    Start Process Run    forever
    Set Test Variable    ${RUN}    ${id}
    Wait An Hour    ${id}


*** Keywords ***
Wait An Hour
    [Arguments]    ${id}
    [Timeout]    1 second
    Wait Until Process Run Completes    ${id}    timeout=1 hour
