*** Settings ***
Documentation       The Emulator keywords drive a real emulator process. Only
...                 ProcessRunLibrary.Emulator is used here; the Control Room API is called
...                 with `requests` through ``Evaluate``, not with ProcessRunLibrary.
Library             Collections
Library             ProcessRunLibrary.Emulator
Suite Setup         Start The Emulator
Suite Teardown      Stop Emulator
Test Setup          Reset Emulator


*** Variables ***
${WS}       atest-ws
${KEY}      atest-key


*** Test Cases ***
Start Emulator Returns The API Base URL
    Should Match Regexp    ${URL}    ^http://127\\.0\\.0\\.1:\\d+/api/v1$
    ${again} =    Get Emulator Url
    Should Be Equal    ${again}    ${URL}

Starting A Second Emulator Fails
    Run Keyword And Expect Error
    ...    The emulator is already running at ${URL}.
    ...    Start Emulator

A Defined Process Runs To Its Outcome
    ${definition} =    Define Process    orders    name=Orders    new_seconds=0    run_seconds=1 s
    ...    outcome=unresolved    failures=[{"type": "business", "code": "E1", "message": "No customer."}]
    Should Be Equal    ${definition.name}    Orders
    ${started} =    Call API    POST    /processes/orders/process-runs
    ...    {"type": "with_payloads", "payloads": [{"order": 1}, {"order": 2}]}
    Should Be True    ${started}[started]
    ${runs} =    Get Emulator Runs    process_id=orders
    Length Should Be    ${runs}    1
    Should Be Equal    ${runs}[0][id]    ${started}[id]
    Should Be Equal    ${runs}[0][payloads]    ${{[{"order": 1}, {"order": 2}]}}
    Wait Until Keyword Succeeds    5 s    0.1 s    Run Should Be    ${started}[id]    unresolved

Define Process Rejects A Bad Outcome
    Run Keyword And Expect Error
    ...    Emulator admin request PUT /_emulator/processes/bad failed with status 400: Process 'bad': 'outcome' must be 'completed' or 'unresolved'.
    ...    Define Process    bad    outcome=failed

An Injected Fault Answers 503 Once
    ${id} =    Inject Fault    status=503    method=GET    path=/process-runs$    times=1    retry_after=2 s
    Should Be Equal    ${id}    f1
    ${first} =    Call API    GET    /process-runs    expected_status=503
    Should Be Equal    ${first}[error][message]    Injected fault f1: 503 Service Unavailable.
    ${second} =    Call API    GET    /process-runs
    Should Be Equal    ${second}[data]    ${{[]}}
    ${log} =    Get Requests    method=GET    path=/process-runs$
    Length Should Be    ${log}    2
    Should Be Equal    ${log}[0][fault]    f1
    Should Be Equal As Integers    ${log}[0][status]    503
    Should Be Equal    ${log}[1][fault]    ${None}
    Should Be Equal    ${log}[0][headers][Authorization]    RC-WSKEY ***

Request Count And Clearing
    Call API    GET    /process-runs
    Call API    GET    /process-runs/nope    expected_status=404
    ${count} =    Get Request Count    method=GET
    Should Be Equal As Integers    ${count}    2
    ${count} =    Get Request Count    path=/nope$
    Should Be Equal As Integers    ${count}    1
    Clear Request Log
    ${count} =    Get Request Count
    Should Be Equal As Integers    ${count}    0

Clear Faults Removes Every Rule
    Inject Fault    status=500
    Clear Faults
    Call API    GET    /process-runs

An Added Token Is Accepted
    Add Emulator Token    run-token
    ${page} =    Call API    GET    /process-runs    authorization=Bearer run-token
    Should Be Equal    ${page}[has_more]    ${False}
    Call API    GET    /process-runs    authorization=Bearer other    expected_status=403


*** Keywords ***
Start The Emulator
    ${url} =    Start Emulator    workspace_id=${WS}    api_key=${KEY}    clock_factor=5
    Set Suite Variable    ${URL}    ${url}

Call API
    [Documentation]    Calls the emulator's Control Room API and returns the JSON answer.
    [Arguments]    ${method}
    ...    ${path}
    ...    ${body}=${None}
    ...    ${expected_status}=200
    ...    ${authorization}=RC-WSKEY ${KEY}
    ${response} =    Evaluate
    ...    requests.request($method, $URL + '/workspaces/' + $WS + $path, data=$body, headers={'Authorization': $authorization}, timeout=10)
    ...    modules=requests
    Should Be Equal As Integers    ${response.status_code}    ${expected_status}    ${response.text}
    RETURN    ${response.json()}

Run Should Be
    [Arguments]    ${run_id}    ${expected}
    ${run} =    Call API    GET    /process-runs/${run_id}
    Should Be Equal    ${run}[state]    ${expected}
