*** Settings ***
Documentation    What the library writes to the log, word for word: one INFO line per
...              request, the wait's start, state changes and end, bodies at DEBUG.

Resource         common.resource
Library          Process
Library          OutputReader.py

Suite Setup      Run The Logging Cases


*** Variables ***
${PYTHON}    ${{sys.executable}}


*** Test Cases ***
Each Request Is One INFO Line
    ${messages} =    Messages    Start, Get And Wait    Get Process Run    INFO
    Length Should Be    ${messages}    1
    Should Match Regexp    ${messages}[0]
    ...    ^GET /workspaces/${WORKSPACE_ID}/process-runs/${RUN} -> 200 in \\d+\\.\\d\\d s$

Starting Says What Was Started
    ${messages} =    Messages    Start, Get And Wait    Start Process Run    INFO
    Should Be Equal    ${messages}[0]
    ...    Created Control Room session 'default' for workspace '${WORKSPACE_ID}' at ${API_URL}.
    Should Match Regexp    ${messages}[1]
    ...    ^POST /workspaces/${WORKSPACE_ID}/processes/quick/process-runs -> 200 in \\d+\\.\\d\\d s$
    Should Be Equal    ${messages}[2]    Started process run ${RUN} of process 'quick' with 1 payload.
    Length Should Be    ${messages}    4    # and Robot's own "${id} = ..."

Bodies Are Logged At DEBUG
    ${messages} =    Messages    Start, Get And Wait    Start Process Run    DEBUG
    Should Contain    ${messages}
    ...    POST /workspaces/${WORKSPACE_ID}/processes/quick/process-runs body {'type': 'with_payloads', 'payloads': [{'order': 1}]}
    Should Contain    ${messages}    Response body: {"started":true,"id":"${RUN}"}

A Wait Logs Its Start, Each State Change And Its End
    ${messages} =    Messages    Start, Get And Wait    Wait Until Process Run Completes    INFO
    Should Be Equal    ${messages}[0]
    ...    Waiting up to 30 seconds for process run ${RUN} to complete (polling at most every 500 milliseconds).
    Should Match Regexp    ${messages}[1]    ^Process run ${RUN} is (new|in_progress|completed) after waiting \\d+ (milliseconds|seconds?.*)\\.$
    Should Match Regexp    ${messages}[-1]    ^Process run ${RUN} ended completed after waiting .+ \\(\\d+ requests\\); by Control Room's clock it ran .+\\.$
    FOR    ${message}    IN    @{messages}[1:-1]
        Should Match Regexp    ${message}    ^Process run ${RUN} is \\w+ after waiting .+\\.$
    END

Polls Are Logged At DEBUG Only
    ${info} =    Messages    Start, Get And Wait    Wait Until Process Run Completes    INFO
    Should Not Contain Match    ${info}    GET *
    ${debug} =    Messages    Start, Get And Wait    Wait Until Process Run Completes    DEBUG
    Should Contain Match    ${debug}    GET /workspaces/${WORKSPACE_ID}/process-runs/${RUN} -> 200 in *

Robot's TRACE Arguments Show No Key, Also When Given Positionally
    ${messages} =    Messages    Start With A Key Given Positionally    Create Control Room Session    TRACE
    Should Be Equal    ${messages}[0]
    ...    Arguments: [ 'positional' | '${API_URL}' | '${WORKSPACE_ID}' | '***' ]


*** Keywords ***
Run The Logging Cases
    Run Process    ${PYTHON}    -m    robot    --output    ${OUTPUT DIR}/logging.xml
    ...    --log    NONE    --report    NONE    --loglevel    TRACE
    ...    --pythonpath    ${CURDIR}/../resources    ${CURDIR}/../resources/logging_cases.robot
    ...    timeout=2 minutes    on_timeout=kill
    Read Output    ${OUTPUT DIR}/logging.xml
    ${run} =    Suite Metadata    run
    Set Suite Variable    ${RUN}    ${run}
