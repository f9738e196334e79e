*** Settings ***
Documentation     The Emulator keywords drive a real emulator process. Only
...               ProcessRunLibrary.Emulator is used here; the Control Room API is called
...               with `requests` through ``Evaluate``, not with ProcessRunLibrary.

Library           Collections
Library           OperatingSystem
Library           ProcessRunLibrary.Emulator

Suite Setup       Start The Emulator
Suite Teardown    Stop Emulator
Test Setup        Reset Emulator


*** Variables ***
${WS}     atest-ws
${KEY}    atest-key


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

Seeded Work Items Wait In The Input Queue With Their Files
    Define Process    inbox    new_seconds=0    run_seconds=1 s
    ${path} =    Set Variable    ${OUTPUT DIR}${/}seeded-invoice.txt
    Create File    ${path}    Invoice 1
    ${item} =    Add Input Work Item    inbox    {"invoice": 1}    files=${path}
    Should Be Equal    ${item}[state]    new
    Should Be Equal    ${item}[payload]    ${{{"invoice": 1}}}
    Should Be Equal    ${item}[files][0][name]    seeded-invoice.txt
    Should Be Equal    ${item}[files][0][content]    Invoice 1
    ${second} =    Add Input Work Item    inbox    files=${{{"notes.bin": b"\xff\x00"}}}
    Should Be Equal    ${second}[payload]    ${{{}}}
    Should Be Equal    ${second}[files]    ${{[{"name": "notes.bin", "size": 2, "uploaded": True, "content_base64": "/wA="}]}}
    ${name}    ${content} =    Download Work Item File    ${item}[id]
    Should Be Equal    ${name}    seeded-invoice.txt
    Should Be Equal    ${content}    ${{b"Invoice 1"}}
    ${started} =    Call API    POST    /processes/inbox/process-runs    {"type": "with_inputs"}
    Wait Until Keyword Succeeds    5 s    0.1 s    Run Should Be    ${started}[id]    completed
    ${items} =    Get Emulator Work Items    process_run_id=${started}[id]
    Should Be Equal    ${{[i["state"] for i in $items]}}    ${{["done", "done"]}}
    ${queued} =    Get Emulator Work Items    process_id=inbox
    Length Should Be    ${queued}    2

A Retried Item Of A Process That Fails Once Completes Its Run
    Define Process    flaky    new_seconds=0    run_seconds=1 s    outcome=unresolved
    ...    failing_attempts=1
    ${item} =    Add Input Work Item    flaky    {"order": 7}
    ${started} =    Call API    POST    /processes/flaky/process-runs    {"type": "with_inputs"}
    Wait Until Keyword Succeeds    5 s    0.1 s    Run Should Be    ${started}[id]    unresolved
    ${items} =    Get Emulator Work Items    process_run_id=${started}[id]
    Should Be Equal    ${items}[0][exception][code]    UNSPECIFIED
    Call API    POST    /work-items/batch
    ...    {"batch_operation": "retry", "work_item_ids": ["${item}[id]"]}
    Wait Until Keyword Succeeds    5 s    0.1 s    Run Should Be    ${started}[id]    completed
    ${items} =    Get Emulator Work Items    process_run_id=${started}[id]
    Should Be Equal As Integers    ${items}[0][attempt]    2
    Should Be Equal    ${items}[0][state]    done

Failing Attempts Always Or A Number
    ${always} =    Define Process    stubborn    outcome=unresolved    failing_attempts=always
    Should Be Equal    ${always}[failing_attempts]    ${None}
    ${twice} =    Define Process    twice    outcome=unresolved    failing_attempts=2
    Should Be Equal As Integers    ${twice}[failing_attempts]    2
    Run Keyword And Expect Error
    ...    Argument 'failing_attempts' is not an integer: 'often'.
    ...    Define Process    bad    failing_attempts=often

Add Input Work Item Fails Before Sending When A File Is Missing
    Define Process    inbox
    Run Keyword And Expect Error
    ...    Argument 'files': cannot read '${OUTPUT DIR}${/}missing.txt': No such file or directory.
    ...    Add Input Work Item    inbox    files=${OUTPUT DIR}${/}missing.txt
    ${items} =    Get Emulator Work Items    process_id=inbox
    Should Be Empty    ${items}
    Run Keyword And Expect Error
    ...    Emulator admin request POST /_emulator/work-items failed with status 404: Process 'nope' not found.
    ...    Add Input Work Item    nope

Define Process Configures Steps, Console Lines And Artifacts
    Define Process    pipeline    new_seconds=0    run_seconds=1 s    outcome=unresolved
    ...    steps=["Fetch", {"name": "Enter", "fails": true, "error_code": "PORTAL_DOWN", "console": ["Opening the portal", "The portal did not answer"]}, "Report"]
    ...    artifacts=[{"name": "../evil.txt", "content": "evil"}, {"name": "big.bin", "size": 1000000}]
    ${started} =    Call API    POST    /processes/pipeline/process-runs
    Wait Until Keyword Succeeds    5 s    0.1 s    Run Should Be    ${started}[id]    unresolved
    ${page} =    Call API    GET    /step-runs?process_run_id=${started}[id]
    ${names} =    Evaluate    [s['step']['name'] for s in $page['data']]
    Should Be Equal    ${names}    ${{["Fetch", "Enter", "Report"]}}
    ${states} =    Evaluate    [s['state'] for s in $page['data']]
    Should Be Equal    ${states}    ${{["completed", "failed", "completed"]}}
    ${failed} =    Set Variable    ${page}[data][1]
    Should Be Equal    ${failed}[error]    ${{{"code": "PORTAL_DOWN"}}}
    ${console} =    Call API    GET    /step-runs/${failed}[id]/console-messages
    ${lines} =    Evaluate    [m['message'] for m in $console['data']]
    Should Be Equal    ${lines}    ${{["Opening the portal", "The portal did not answer"]}}
    ${artifacts} =    Call API    GET    /step-runs/${failed}[id]/artifacts
    ${names} =    Evaluate    [(a['name'], a['size']) for a in $artifacts['data']]
    Should Be Equal    ${names}    ${{[("../evil.txt", 4), ("big.bin", 1000000)]}}
    ${download} =    Download Artifact    ${failed}[id]    ${artifacts}[data][0][id]
    Should Be Equal    ${download.content}    ${{b"evil"}}
    ${download} =    Download Artifact    ${failed}[id]    ${artifacts}[data][1][id]
    Length Should Be    ${download.content}    1000000
    ${forged} =    Download Artifact    ${failed}[id]    ${artifacts}[data][1][id]    forge=${True}
    Should Be Equal As Integers    ${forged.status_code}    403
    Should Be Equal    ${forged.json()}[error][message]    The URL's signature does not match.

A Failed Step Run By Default Names The Failed Work Item And Has Robot Framework Files
    Define Process    child    new_seconds=0    run_seconds=1 s    outcome=unresolved
    ...    failures=[{"type": "business", "code": "E1", "message": "No customer."}]
    ${started} =    Call API    POST    /processes/child/process-runs
    Wait Until Keyword Succeeds    5 s    0.1 s    Run Should Be    ${started}[id]    unresolved
    ${page} =    Call API    GET    /step-runs?process_run_id=${started}[id]
    ${step_run} =    Set Variable    ${page}[data][0]
    ${items} =    Call API    GET    /work-items?process_run_id=${started}[id]
    ${console} =    Call API    GET    /step-runs/${step_run}[id]/console-messages
    Should Be Equal    ${console}[data][-2][message]
    ...    Work item ${items}[data][0][id] failed with business exception E1: No customer.
    Should Be Equal    ${console}[data][-1][message]
    ...    Step 'child' of process 'child' failed (ROBOT_FAILED): 1 of 1 work item(s) failed.
    ${artifacts} =    Call API    GET    /step-runs/${step_run}[id]/artifacts
    Should Be Equal    ${artifacts}[data][1][name]    log.html
    ${download} =    Download Artifact    ${step_run}[id]    ${artifacts}[data][1][id]
    Should Contain    ${download.text}    Work item failed with business exception E1: No customer.

Define Process Rejects A Bad Step
    Run Keyword And Expect Error
    ...    Emulator admin request PUT /_emulator/processes/bad failed with status 400: Process 'bad': at most one step has 'fails': true.
    ...    Define Process    bad    steps=[{"name": "A", "fails": true}, {"name": "B", "fails": true}]
    Run Keyword And Expect Error
    ...    Argument 'console' is not valid JSON: 'Opening the portal'.
    ...    Define Process    bad    console=Opening the portal


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

Download Work Item File
    [Documentation]    Reads a work item through the API and downloads its first file from
    ...    its signed URL; returns the file's name and bytes. The URL is never logged: it is a
    ...    credential (atest/run.py scans the outputs for signatures), so urllib3's debug
    ...    log of request lines is off meanwhile.
    [Arguments]    ${work_item_id}
    ${level} =    Evaluate    logging.getLogger('urllib3').level    modules=logging
    Evaluate    logging.getLogger('urllib3').setLevel(logging.INFO)    modules=logging
    ${name}    ${content} =    Evaluate
    ...    (lambda f: (f['name'], requests.get(f['download']['url'], timeout=10).content))(requests.get($URL + '/workspaces/' + $WS + '/work-items/' + $work_item_id, headers={'Authorization': 'RC-WSKEY ' + $KEY}, timeout=10).json()['files'][0])
    ...    modules=requests
    RETURN    ${name}    ${content}
    [Teardown]    Evaluate    logging.getLogger('urllib3').setLevel(${level})    modules=logging

Download Artifact
    [Documentation]    Gets an artifact's signed URL and downloads it without credentials;
    ...    ``forge`` changes the signature's last digit. The URL is never logged: it is a
    ...    credential (atest/run.py scans the outputs for signatures), so urllib3's debug
    ...    log of request lines is off meanwhile.
    [Arguments]    ${step_run_id}    ${artifact_id}    ${forge}=${False}
    ${level} =    Evaluate    logging.getLogger('urllib3').level    modules=logging
    Evaluate    logging.getLogger('urllib3').setLevel(logging.INFO)    modules=logging
    ${response} =    Evaluate
    ...    (lambda u, forge: requests.get(u[:-1] + '01'[u[-1] == '0'] if forge else u, timeout=10))(requests.get($URL + '/workspaces/' + $WS + '/step-runs/' + $step_run_id + '/artifacts/' + $artifact_id, headers={'Authorization': 'RC-WSKEY ' + $KEY}, timeout=10).json()['url'], $forge)
    ...    modules=requests
    RETURN    ${response}
    [Teardown]    Evaluate    logging.getLogger('urllib3').setLevel(${level})    modules=logging

Run Should Be
    [Arguments]    ${run_id}    ${expected}
    ${run} =    Call API    GET    /process-runs/${run_id}
    Should Be Equal    ${run}[state]    ${expected}
