*** Settings ***
Documentation     The library against servers that are not Control Room: a false Control
...               Room (the impostor) whose answers try to send the credentials to another
...               origin (the thief), stretch every bound, or answer what Control Room
...               never answers. Both are real HTTP servers on 127.0.0.1
...               (``HostileServer.py``); the thief records what it gets, so that each test
...               proves that nothing reached it. Messages are asserted word for word;
...               times are measured by ``bench/hostile_bounds.py``, not asserted here.

Resource          common.resource
Library           HostileServer

Suite Setup       Start Hostile Servers
Suite Teardown    Run Keywords    Stop Hostile Servers    AND    Close All Control Room Sessions
Test Setup        Clear Received
Test Teardown     Thief Should Have Received Nothing


*** Variables ***
${RUNS}                GET /workspaces/ws/process-runs
${START}               POST /workspaces/ws/processes/p1/process-runs
${NOT SENT}            nothing is sent there, so that the credentials stay with Control Room.
${MAY HAVE STARTED}
...                    The process run may have been started anyway: a start is not repeated after such an error, so that no run is started twice; List Process Runs shows whether it exists.


*** Test Cases ***
A Next URL On Another Origin Is Not Followed By Any Listing
    Use Scenario    steal-next
    ${thief} =    Thief Origin
    ${impostor} =    Impostor Origin
    ${elsewhere} =    Set Variable    its next page is on another origin (${thief}) than Control Room's (${impostor}): ${NOT SENT}
    Run Keyword And Expect Error    EQUALS:${RUNS}?limit=5 failed: ${elsewhere}
    ...    List Process Runs    limit=5
    Run Keyword And Expect Error    EQUALS:GET /workspaces/ws/outputs?process_run_id=r1 failed: ${elsewhere}
    ...    List Process Run Outputs    r1
    Run Keyword And Expect Error
    ...    EQUALS:Process run r1 of process 'Hostile' ended unresolved. Its failed work items could not be read: GET /workspaces/ws/work-items?process_run_id=r1&state=failed&limit=6 failed: ${elsewhere}\nIts console messages could not be read: GET /workspaces/ws/step-runs?process_run_id=r1 failed: ${elsewhere}
    ...    Wait Until Process Run Completes    r1    timeout=5 s
    Run Keyword And Expect Error    EQUALS:${RUNS}?limit=100 failed: ${elsewhere}
    ...    Wait Until Process Runs Complete    ${{["r1", "r2"]}}    timeout=5 s

A Redirect To Another Origin Is Not Followed
    [Template]    Redirect Is Refused
    redirect-302    302 Found
    redirect-307    307 Temporary Redirect

A Dripping Answer Ends At The Request Timeout
    [Documentation]    One byte every 1.5 s, in the body or in the headers: each read is
    ...    quick, but the request as a whole is bounded.
    [Template]    No Answer In Time
    drip
    drip-headers
    hang

A Hanging Start Is Not Repeated And May Have Started
    Use Scenario    hang    request_timeout=1 s    max_retries=3
    Run Keyword And Expect Error    EQUALS:${START} failed: no answer within 1 second. ${MAY HAVE STARTED}
    ...    Start Process Run    p1
    ${sent} =    Impostor Requests
    Should Be Equal    ${sent}    ${{["POST /api/v1/workspaces/ws/processes/p1/process-runs"]}}

A Wait Ends At Its Timeout Whatever The Server Does
    [Documentation]    Retries, backoff, Retry-After and hanging reads all fit in the wait's
    ...    timeout; after it, one last read of at most half a second.
    [Template]    Wait Times Out
    drip    no answer within 2 seconds.
    hang    no answer within 2 seconds.
    retry-after    503 Service Unavailable: service_unavailable: Come back later. (Retry-After asked for 10 seconds, more than the wait had left)

A Wait For Several Runs Ends At Its Timeout
    Use Scenario    retry-after    max_retries=3
    Run Keyword And Expect Error
    ...    EQUALS:2 of 2 process runs did not complete:\n- Process run r1 did not complete in 2 seconds; its state could not be read (last error: ${RUNS}?limit=100 failed: 503 Service Unavailable: service_unavailable: Come back later. (Retry-After asked for 10 seconds, more than the wait had left)).\n- Process run r2 did not complete in 2 seconds; its state could not be read (last error: ${RUNS}?limit=100 failed: 503 Service Unavailable: service_unavailable: Come back later. (Retry-After asked for 10 seconds, more than the wait had left)).
    ...    Wait Until Process Runs Complete    ${{["r1", "r2"]}}    timeout=2 s

Answers Of The Wrong Shape Fail With What Was Expected
    [Template]    Answer Is Refused
    empty    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with an empty body, expected a JSON object.
    null    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with an unexpected answer: expected a JSON object, got null.
    list    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with an unexpected answer: expected a JSON object, got a list ([]).
    state-number    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with an unexpected answer: expected 'state' to be a string, got a number (7).
    list    List Process Runs    5    ${RUNS}?limit=5 failed: 200 OK with an unexpected answer: expected a JSON object, got a list ([]).
    data-string    List Process Runs    5    ${RUNS}?limit=5 failed: 200 OK with an unexpected answer: expected 'data' to be a list, got a string ("abc").
    next-number    List Process Runs    5    ${RUNS}?limit=5 failed: 200 OK with an unexpected answer: expected 'next' to be a string or null, got a number (7).
    items-strings    List Process Runs    5    ${RUNS}?limit=5 failed: 200 OK with an unexpected answer: expected 'data' to be a list of objects, got a list holding a string ("a").
    deep    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with a body that is JSON nested deeper than 64 levels.
    deep-object    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with a body that is JSON nested deeper than 64 levels.
    huge    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with a body larger than 10 MB, the most an answer may have.
    huge-declared    Get Process Run    r1    ${RUNS}/r1 failed: 200 OK with a body larger than 10 MB, the most an answer may have.

Only An Explicit Started False Says No Run Was Started
    [Template]    Answer Is Refused
    empty    Start Process Run    p1    ${START} failed: 200 OK with an empty body, expected a JSON object. ${MAY HAVE STARTED}
    truncated    Start Process Run    p1    ${START} failed: 200 OK with a body that is not JSON. ${MAY HAVE STARTED}
    no-started    Start Process Run    p1    ${START} failed: 200 OK with an unexpected answer: expected 'started' (boolean), got no 'started'. ${MAY HAVE STARTED}
    list    Start Process Run    p1    ${START} failed: 200 OK with an unexpected answer: expected a JSON object, got a list ([]). ${MAY HAVE STARTED}
    not-started    Start Process Run    p1    No process run of process 'p1' was started: Control Room answered {'started': False}.

Paging Ends
    [Template]    Answer Is Refused
    loop-next    List Process Runs    5    ${RUNS}?limit=5 failed: its next page is one already read (/workspaces/ws/process-runs?limit=5): the listing would never end.
    cycle    List Process Runs    5    ${RUNS}?page=a failed: its next page is one already read (/workspaces/ws/process-runs?page=b): the listing would never end.

A Many-Run Wait Names Every Run That Cannot Be Read
    Use Scenario    runs-gone
    Run Keyword And Expect Error
    ...    EQUALS:3 of 3 process runs could not be read:\n- ${RUNS}/r1 failed: 404 Not Found: not_found: Process run r1 was not found.\n- ${RUNS}/r2 failed: 404 Not Found: not_found: Process run r2 was not found.\n- ${RUNS}/r3 failed: 404 Not Found: not_found: Process run r3 was not found.
    ...    Wait Until Process Runs Complete    ${{["r1", "r2", "r3"]}}    timeout=5 s


*** Keywords ***
Use Scenario
    [Arguments]    ${scenario}    ${request_timeout}=2 s    ${max_retries}=0
    ${url} =    Hostile API URL    ${scenario}
    Create Control Room Session    ${scenario}    api_url=${url}    workspace_id=ws
    ...    request_timeout=${request_timeout}    max_retries=${max_retries}

Redirect Is Refused
    [Arguments]    ${scenario}    ${status}
    Use Scenario    ${scenario}
    ${thief} =    Thief Origin
    ${impostor} =    Impostor Origin
    ${refused} =    Set Variable    ${status}: a redirect to another origin (${thief}) than Control Room's (${impostor}), not followed.
    Run Keyword And Expect Error    EQUALS:${START} failed: ${refused} ${MAY HAVE STARTED}
    ...    Start Process Run    p1    payload={"order": 1}
    Run Keyword And Expect Error    EQUALS:${RUNS}/r1 failed: ${refused}
    ...    Get Process Run    r1
    Run Keyword And Expect Error    EQUALS:DELETE /workspaces/ws/process-runs/r1 failed: ${refused}
    ...    Delete Process Run    r1

No Answer In Time
    [Arguments]    ${scenario}
    Use Scenario    ${scenario}
    Run Keyword And Expect Error    EQUALS:${RUNS}/r1 failed: no answer within 2 seconds.
    ...    Get Process Run    r1

Wait Times Out
    [Arguments]    ${scenario}    ${error}
    Use Scenario    ${scenario}    max_retries=3
    Run Keyword And Expect Error
    ...    EQUALS:Process run r1 did not complete in 2 seconds; its state could not be read (last error: ${RUNS}/r1 failed: ${error}).
    ...    Wait Until Process Run Completes    r1    timeout=2 s

Answer Is Refused
    [Documentation]    ``argument``: the id, or the ``limit`` of `List Process Runs`.
    [Arguments]    ${scenario}    ${keyword}    ${argument}    ${message}
    Use Scenario    ${scenario}
    IF    $keyword == "List Process Runs"
        Run Keyword And Expect Error    EQUALS:${message}    List Process Runs    limit=${argument}
    ELSE
        Run Keyword And Expect Error    EQUALS:${message}    ${keyword}    ${argument}
    END
