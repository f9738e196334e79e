*** Settings ***
Documentation     Every work item keyword over HTTP against a private emulator (so that its
...               request log counts only this suite's requests), configured by
...               atest/resources/processes.json (page size 5): input items with files, the
...               repair loop, paging, bad input with nothing sent, and no upload URL,
...               form field or download URL in any output at TRACE.

Resource          private_emulator.resource
Library           OperatingSystem
Library           Process

Suite Setup       Start Work Items Suite
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions
Test Setup        Private.Clear Request Log


*** Variables ***
${ID RULE}     must be an id without '/', '?', '#', '\\' or white space, got
${NOT JSON}    must be a dictionary, a list or a string holding JSON, got a string that is not JSON


*** Test Cases ***
Create Input Work Item With Files, Start From The Input Queue, Repair And Retry Until Completed
    ${id} =    Create Input Work Item    flaky    {"order": 42}
    ...    files=${{[r"${FILES}/invoice.txt", r"${FILES}/data.bin"]}}
    ${item} =    Get Work Item    ${id}
    Should Be Equal    ${item.state}    new
    Should Be Equal    ${item.payload}    ${{{"order": 42}}}
    ${names} =    Evaluate    [f["name"] for f in $item.files]
    Should Be Equal    ${names}    ${{["invoice.txt", "data.bin"]}}
    ${stored} =    Private.Get Emulator Work Items    process_id=flaky
    Should Be Equal    ${stored}[0][files][0][content]    Invoice 42: 100 EUR.\n
    Should Be Equal    ${stored}[0][files][1][size]    ${300000}
    ${run id} =    Start Process Run    flaky    use_input_queue=True
    ${run} =    Wait Until Process Run Completes    ${run id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${failed} =    List Work Items    process_run_id=${run id}    state=failed
    Length Should Be    ${failed}    1
    Should Be Equal    ${failed}[0][id]    ${id}
    Should Be Equal    ${failed}[0][exception][code]    INVALID_ORDER
    Update Work Item Payload    ${id}    {"order": 42, "customer": "ACME"}
    ${item} =    Get Work Item    ${id}
    Should Be Equal    ${item.payload}    ${{{"order": 42, "customer": "ACME"}}}
    Retry Work Items    ${failed}
    ${run} =    Wait Until Process Run Completes    ${run id}
    Should Be Equal    ${run.state}    completed
    ${done} =    List Work Items    process_run_id=${run id}    state=done
    Length Should Be    ${done}    1
    ${stored} =    Private.Get Emulator Work Items    process_run_id=${run id}
    Should Be Equal As Integers    ${stored}[0][attempt]    2
    Should Be Equal    ${stored}[0][payload][customer]    ACME

The Upload Is A Multipart POST Without The API Key, With The Form Fields And The File Last
    ${id} =    Create Input Work Item    quick    files=${FILES}/invoice.txt
    ${announced} =    Private.Get Requests    POST    /work-items/[^/]+/files$
    Should Be Equal    ${announced}[0][body]    ${{{"file_name": "invoice.txt", "file_size": 21}}}
    ${uploads} =    Private.Get Requests    POST    /uploads/
    Length Should Be    ${uploads}    1
    Dictionary Should Not Contain Key    ${uploads}[0][headers]    Authorization
    Should Start With    ${uploads}[0][headers][Content-Type]    multipart/form-data; boundary=${EMPTY}
    Should Be Equal    ${uploads}[0][status]    ${204}
    [Teardown]    Delete Work Items    ${{[$id]}}

Mark Work Items Done Completes An Unresolved Run
    ${run id} =    Start Process Run    failing    payloads=${{[{"n": 1}, {"n": 2}, {"n": 3}]}}
    ${run} =    Wait Until Process Run Completes    ${run id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved
    ${failed} =    List Work Items    process_run_id=${run id}    state=failed
    Length Should Be    ${failed}    2
    Mark Work Items Done    ${failed}
    ${run} =    Wait Until Process Run Completes    ${run id}
    Should Be Equal    ${run.state}    completed
    ${failed} =    List Work Items    process_run_id=${run id}    state=FAILED
    Should Be Empty    ${failed}

Delete Work Items Empties The Input Queue
    Create Input Work Item    empty-queue    {"n": 1}
    Create Input Work Item    empty-queue    {"n": 2}
    ${queued} =    List Work Items    process_id=empty-queue    state=new
    Length Should Be    ${queued}    2
    Delete Work Items    ${queued}
    ${queued} =    List Work Items    process_id=empty-queue    state=new
    Should Be Empty    ${queued}
    Run Keyword And Expect Error
    ...    No process run of process 'empty-queue' was started: its input queue has no work items waiting.
    ...    Start Process Run    empty-queue    use_input_queue=True

Start A Run With Chosen Work Item Ids
    ${a} =    Create Input Work Item    quick    {"n": 1}
    ${b} =    Create Input Work Item    quick    {"n": 2}
    ${run id} =    Start Process Run    quick    work_item_ids=${{[$a, $b]}}
    Wait Until Process Run Completes    ${run id}
    ${items} =    List Work Items    process_run_id=${run id}
    ${ids} =    Evaluate    sorted(i["id"] for i in $items)
    Should Be Equal    ${ids}    ${{sorted([$a, $b])}}

List Work Items Follows Every Page And Stops At The Limit
    ${payloads} =    Evaluate    [{"n": n} for n in range(12)]
    ${run id} =    Start Process Run    pager    payloads=${payloads}
    Wait Until Process Run Completes    ${run id}
    Private.Clear Request Log
    ${items} =    List Work Items    process_run_id=${run id}
    Length Should Be    ${items}    12
    ${pages} =    Private.Get Request Count    GET    /work-items$
    Should Be Equal    ${pages}    ${3}
    ${ids} =    Evaluate    len({i["id"] for i in $items})
    Should Be Equal    ${ids}    ${12}
    Private.Clear Request Log
    ${items} =    List Work Items    process_id=pager    process_run_id=${run id}    state=done    limit=7
    Length Should Be    ${items}    7
    ${requests} =    Private.Get Requests    GET    /work-items$
    Length Should Be    ${requests}    1    limit is also the page size: the first page holds the 7 items.
    Should Be Equal    ${requests}[0][query]
    ...    ${{{"process_id": "pager", "process_run_id": $run_id, "state": "done", "limit": "7"}}}

Get Work Item Of An Unknown Id Fails With Control Room's Error
    Run Keyword And Expect Error
    ...    GLOB:GET /workspaces/${WORKSPACE_ID}/work-items/no-such-item?include_data=true failed: 404 Not Found: *
    ...    Get Work Item    no-such-item

An Upload Answered 503 Is Sent Again, Whole
    [Documentation]    The upload URL answers 503 once: the upload is repeated, and the
    ...    emulator stores every byte of the 300,000-byte file (the streamed body is
    ...    rewound for the retry).
    Private.Inject Fault    status=503    method=POST    path=/_emulator/uploads/    times=1
    ${id} =    Create Input Work Item    empty-queue    files=${FILES}/data.bin
    Statuses Should Be    POST    /_emulator/uploads/    503    204
    ${stored} =    Private.Get Emulator Work Items    process_id=empty-queue
    Should Be Equal    ${stored}[0][files][0][size]    ${300000}
    Should Be Equal    ${stored}[0][files][0][uploaded]    ${True}
    ${expected} =    Evaluate    base64.b64encode(pathlib.Path(r"${FILES}/data.bin").read_bytes()).decode()    modules=base64,pathlib
    Should Be Equal    ${stored}[0][files][0][content_base64]    ${expected}    values=False
    [Teardown]    Run Keywords    Private.Clear Faults    AND    Delete Work Items    ${{[$id]}}

An Upload That Keeps Failing Deletes The New Work Item And Says So
    Private.Inject Fault    status=503    method=POST    path=/_emulator/uploads/
    Run Keyword And Expect Error
    ...    GLOB:POST <upload URL of 'invoice.txt'> failed: 503 Service Unavailable (after 3 retries). File 'invoice.txt' of work item * was not uploaded. The work item was deleted, so that no run takes it without its files.
    ...    Create Input Work Item    empty-queue    files=${FILES}/invoice.txt
    Statuses Should Be    POST    /_emulator/uploads/    503    503    503    503
    ${left} =    List Work Items    process_id=empty-queue
    Should Be Empty    ${left}
    [Teardown]    Private.Clear Faults

A File That Cannot Be Added Deletes The New Work Item And Says So
    [Documentation]    The emulator injects faults on API paths, not on upload URLs: the
    ...    announcement of the file fails here. A POST under /work-items is not repeated
    ...    after a 503 (it may have been received), and the half-made item is deleted.
    Private.Inject Fault    status=503    method=POST    path=/work-items/[^/]+/files$    times=1
    Run Keyword And Expect Error
    ...    GLOB:POST /workspaces/${WORKSPACE_ID}/work-items/*/files failed: 503 Service Unavailable*. File 'invoice.txt' of work item * was not uploaded. The work item was deleted, so that no run takes it without its files.
    ...    Create Input Work Item    empty-queue    files=${FILES}/invoice.txt
    ${announced} =    Private.Get Request Count    POST    /work-items/[^/]+/files$
    Should Be Equal    ${announced}    ${1}
    ${deletes} =    Private.Get Requests    POST    /work-items/batch$
    Should Be Equal    ${deletes}[0][body][batch_operation]    delete
    ${left} =    List Work Items    process_id=empty-queue
    Should Be Empty    ${left}
    [Teardown]    Private.Clear Faults

Bad Input Is Refused Before Any Request
    [Template]    Is Refused Before Sending
    Argument 'process_id' must be a non-empty id, got ''.
    ...    Create Input Work Item    ${EMPTY}
    Argument 'process_id' ${ID RULE} 'a/b' (contains '/').
    ...    Create Input Work Item    a/b
    Argument 'payload' ${NOT JSON} (Expecting value: line 1 column 1 (char 0)).
    ...    Create Input Work Item    quick    not json
    Argument 'files' names a file that does not exist: '${FILES}${/}missing.txt'.
    ...    Create Input Work Item    quick    files=${FILES}${/}missing.txt
    Argument 'files' names a directory, not a file: '${FILES}'.
    ...    Create Input Work Item    quick    files=${FILES}
    Argument 'files' names a named pipe (FIFO), not a file: '${FILES}${/}pipe'.
    ...    Create Input Work Item    quick    files=${FILES}${/}pipe
    Argument 'files' names two files called 'invoice.txt': the files of a work item need distinct names.
    ...    Create Input Work Item    quick    files=${{[r"${FILES}/invoice.txt", r"${FILES}/invoice.txt"]}}
    Argument 'files' names a file that cannot be read: '${LOCKED}' (Permission denied).
    ...    Create Input Work Item    quick    files=${LOCKED}
    Argument 'process_id' ${ID RULE} 'a?b' (contains '?').
    ...    List Work Items    process_id=a?b
    Argument 'process_run_id' ${ID RULE} 'a#b' (contains '#').
    ...    List Work Items    process_run_id=a#b
    Argument 'limit' must be a positive integer, got 0.
    ...    List Work Items    limit=${0}
    GLOB:ValueError: Argument 'state' got value 'broken' that cannot be converted to WorkItemState*
    ...    List Work Items    state=broken
    Argument 'work_item_id' must be a non-empty id, got ''.
    ...    Get Work Item    ${EMPTY}
    Argument 'work_item_id' ${ID RULE} '../x' (contains '/').
    ...    Update Work Item Payload    ../x    {}
    Argument 'payload' must be a dictionary, a list or a string holding JSON, got None.
    ...    Update Work Item Payload    item-1    ${None}
    Argument 'payload' ${NOT JSON} (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).
    ...    Update Work Item Payload    item-1    {broken
    Argument 'work_item_ids' must be a non-empty list of ids, got [].
    ...    Retry Work Items    ${{[]}}
    Argument 'work_item_ids' ${ID RULE} 'a b' (contains ' ').
    ...    Mark Work Items Done    ${{["ok", "a b"]}}
    Argument 'work_item_ids' must be a non-empty id, got None.
    ...    Delete Work Items    ${{[None]}}

No Upload URL, Form Field Or Download URL Reaches Any Output At TRACE
    [Documentation]    A child robot creates an item with a file, reads it back and lists
    ...    it at TRACE against the private emulator; its output.xml, log.html and console
    ...    then hold no URL signature (64 hex digits) but the control's, and
    ...    neither the upload nor the download path. The emulator's log proves the upload
    ...    happened.
    ${child} =    Set Variable    ${OUTPUT DIR}${/}work_item_secrets_cases
    # Through this process's environment: `env:` arguments make Run Process log all of it.
    Set Environment Variable    WORK_ITEMS_API_URL    ${PRIVATE URL}
    ${result} =    Run Process    ${{sys.executable}}    -m    robot    --outputdir    ${OUTPUT DIR}
    ...    --output    ${child}.xml
    ...    --log    ${child}.html    --report    NONE    --loglevel    TRACE
    ...    ${CURDIR}/../resources/work_item_secrets_cases.robot
    ...    stdout=${child}.txt    stderr=STDOUT    timeout=2 minutes    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    0    The child robot failed, see ${child}.html    values=False
    ${uploads} =    Private.Get Requests    POST    /uploads/
    Should Be Equal    ${uploads}[-1][status]    ${204}
    ${signatures} =    Count Signatures    ${child}.xml
    Should Be Equal    ${signatures}    ${2}    output.xml: only the control (its argument and its message)
    FOR    ${file}    IN    ${child}.html    ${child}.txt
        ${signatures} =    Count Signatures    ${file}
        Should Be True    ${signatures} <= 2    ${file}: ${signatures} signatures
    END
    FOR    ${file}    IN    ${child}.xml    ${child}.html    ${child}.txt
        ${text} =    Get File    ${file}
        Should Not Contain    ${text}    /_emulator/uploads/    values=False
        Should Not Contain    ${text}    /_emulator/work-item-files/    values=False
    END


*** Keywords ***
Start Work Items Suite
    ${config} =    Normalize Path    ${CURDIR}/../resources/processes.json
    ${url} =    Private.Start Emulator    ${WORKSPACE_ID}    ${API_KEY}    config=${config}
    Set Suite Variable    ${PRIVATE URL}    ${url}
    Create Control Room Session    private    api_url=${url}
    Private.Define Process    flaky    new_seconds=0.1 s    run_seconds=0.4 s    outcome=unresolved
    ...    failures=[{"type": "business", "code": "INVALID_ORDER", "message": "Order 42 has no customer."}]
    ...    failing_attempts=1
    ${files} =    Set Variable    ${OUTPUT DIR}${/}work-item-files
    Create Directory    ${files}
    Create File    ${files}/invoice.txt    Invoice 42: 100 EUR.\n
    Evaluate    open(r"${files}/data.bin", "wb").write(bytes(range(256)) * 1171 + bytes(224))
    # root reads any file it owns: then a file of the kernel that is write-only for all.
    Create File    ${files}/locked.txt    secret
    Evaluate    os.chmod(r"${files}/locked.txt", 0)    modules=os
    ${locked} =    Set Variable If    os.getuid() == 0    /proc/sys/vm/drop_caches    ${files}${/}locked.txt
    Set Suite Variable    ${LOCKED}    ${locked}
    Set Suite Variable    ${FILES}    ${files}
    # Opening a named pipe to read waits for a writer: the check must not open it so.
    Evaluate    os.path.exists(r"${FILES}/pipe") or os.mkfifo(r"${FILES}/pipe")    modules=os

Is Refused Before Sending
    [Arguments]    ${expected}    ${keyword}    @{args}    &{kwargs}
    Private.Clear Request Log
    ${expected} =    Set Variable If    $expected.startswith("GLOB:")    ${expected}    EQUALS:${expected}
    Run Keyword And Expect Error    ${expected}    ${keyword}    @{args}    &{kwargs}
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}    ${sent} request(s) sent for bad input.

Count Signatures
    [Documentation]    How many runs of exactly 64 lower-case hex digits ``path`` holds.
    [Arguments]    ${path}
    ${count} =    Evaluate
    ...    len(re.findall(r"(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])", pathlib.Path($path).read_text(encoding="utf-8", errors="replace")))
    ...    modules=re,pathlib
    RETURN    ${count}
