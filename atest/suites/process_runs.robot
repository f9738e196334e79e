*** Settings ***
Documentation    Every process run keyword over HTTP against the emulator.

Resource         common.resource


*** Test Cases ***
Start Process Run With The Default Work Item
    ${id} =    Start Process Run    quick
    Should Match Regexp    ${id}    ^[0-9a-f-]{36}$
    ${run} =    Wait Until Process Run Completes    ${id}
    Should Be Equal    ${run.process.id}    quick
    ${outputs} =    List Process Run Outputs    ${id}
    Should Be Equal    ${outputs}[0][payload]    ${{{"greeting": "hello"}}}

Start Process Run With One Payload Given As JSON
    ${id} =    Start Process Run    quick    payload={"order": 42}
    Wait Until Process Run Completes    ${id}
    ${outputs} =    List Process Run Outputs    ${id}
    Length Should Be    ${outputs}    1
    Should Be Equal    ${outputs[0].payload.order}    ${42}

Start Process Run With One Payload Given As A Dictionary
    ${payload} =    Create Dictionary    order=${7}    customer=ACME
    ${id} =    Start Process Run    quick    payload=${payload}
    Wait Until Process Run Completes    ${id}
    ${outputs} =    List Process Run Outputs    ${id}
    Should Be Equal    ${outputs[0].payload}    ${payload}

Start Process Run With Many Payloads
    ${payloads} =    Evaluate    [{"order": n} for n in range(3)]
    ${id} =    Start Process Run    quick    payloads=${payloads}
    Wait Until Process Run Completes    ${id}
    ${outputs} =    List Process Run Outputs    ${id}
    ${orders} =    Evaluate    sorted(o["payload"]["order"] for o in $outputs)
    Should Be Equal    ${orders}    ${{[0, 1, 2]}}

Start Process Run With Existing Work Items
    ${first} =    Start Process Run    quick    payloads=${{[{"n": 1}, {"n": 2}]}}
    ${emulated} =    Emulator.Get Emulator Runs    quick
    ${run} =    Evaluate    next(r for r in $emulated if r["id"] == "${first}")
    ${items} =    Evaluate    [item["id"] for item in $run["work_items"]]
    ${id} =    Start Process Run    quick    work_item_ids=${items}
    ${run} =    Wait Until Process Run Completes    ${id}
    Should Be Equal    ${run.state}    completed
    ${outputs} =    List Process Run Outputs    ${id}
    ${numbers} =    Evaluate    sorted(o["payload"]["n"] for o in $outputs)
    Should Be Equal    ${numbers}    ${{[1, 2]}}

Start Process Run With The Input Queue
    ${id} =    Start Process Run    queue    use_input_queue=True
    Wait Until Process Run Completes    ${id}
    ${outputs} =    List Process Run Outputs    ${id}
    ${orders} =    Evaluate    sorted(o["payload"]["order"] for o in $outputs)
    Should Be Equal    ${orders}    ${{[1, 2]}}

Start Process Run Fails When The Input Queue Is Empty
    Run Keyword And Expect Error
    ...    No process run of process 'empty-queue' was started: its input queue has no work items waiting.
    ...    Start Process Run    empty-queue    use_input_queue=True

Start Process Run With A Callback
    ${id} =    Start Process Run    quick    callback_url=http://127.0.0.1:9/hook
    ...    callback_secret=${CALLBACK_SECRET}    callback_events=${{["completed", "unresolved"]}}
    Should Not Be Empty    ${id}

Start Process Run For Integration Sends The Key As Token
    ${id} =    Start Process Run For Integration    quick    {"event": "created"}
    Wait Until Process Run Completes    ${id}
    ${outputs} =    List Process Run Outputs    ${id}
    Should Be Equal    ${outputs[0].payload.event}    created

Start Process Run For Integration With A Wrong Token Fails With The Token Masked
    Run Keyword And Expect Error
    ...    POST /workspaces/${WORKSPACE_ID}/processes/quick/process-runs-integrations?token=***&with_handshake=asana failed: 403 Forbidden: forbidden: The token is not valid.
    ...    Start Process Run For Integration    quick    {}    with_handshake=asana    token=${INTEGRATION_TOKEN}

Get Process Run Returns A Dot Dictionary
    ${id} =    Start Process Run    quick
    ${run} =    Get Process Run    ${id}
    Should Be Equal    ${run.id}    ${id}
    Should Be Equal    ${run}[process][name]    Quick
    Should Contain Any    ${run.state}    new    in_progress    completed
    Should Be Equal    ${run.started_by.type}    api

Get Process Run State
    ${id} =    Start Process Run    forever
    Wait Until Keyword Succeeds    5 s    0.1 s    Process Run State Should Be    ${id}    in progress
    ${state} =    Get Process Run State    ${id}
    Should Be Equal    ${state}    in_progress
    [Teardown]    Stop Process Run    ${id}

Get Process Run Of An Unknown Run Fails With Control Room's Error
    Run Keyword And Expect Error
    ...    GET /workspaces/${WORKSPACE_ID}/process-runs/no-such-run failed: 404 Not Found: not_found: Process run 'no-such-run' not found.
    ...    Get Process Run    no-such-run

List Process Runs Follows Every Page
    [Documentation]    The emulator serves pages of 5 runs: 12 runs take three pages.
    ${process} =    Define Unique Process    pager
    FOR    ${_}    IN RANGE    12
        Start Process Run    ${process}
    END
    ${runs} =    List Process Runs    process_id=${process}
    Length Should Be    ${runs}    12
    ${ids} =    Evaluate    len({r.id for r in $runs})
    Should Be Equal    ${ids}    ${12}
    ${pages} =    Emulator.Get Request Count    GET    /workspaces/${WORKSPACE_ID}/process-runs
    Should Be True    ${pages} >= 3

List Process Runs With A Limit Stops Early
    ${process} =    Define Unique Process    pager
    FOR    ${_}    IN RANGE    4
        Start Process Run    ${process}
    END
    ${runs} =    List Process Runs    process_id=${process}    limit=3
    Length Should Be    ${runs}    3

List Process Runs Filters By State
    ${process} =    Define Unique Process    forever
    ${id} =    Start Process Run    ${process}
    Wait Until Keyword Succeeds    5 s    0.1 s    Process Run State Should Be    ${id}    in_progress
    ${runs} =    List Process Runs    process_id=${process}    state=in_progress
    Should Be Equal    ${runs[0].id}    ${id}
    ${runs} =    List Process Runs    process_id=${process}    state=completed
    Should Be Empty    ${runs}
    [Teardown]    Stop Process Run    ${id}

List Process Run Outputs With A Limit
    ${payloads} =    Evaluate    [{"n": n} for n in range(7)]
    ${id} =    Start Process Run    quick    payloads=${payloads}
    Wait Until Process Run Completes    ${id}
    ${all} =    List Process Run Outputs    ${id}
    Length Should Be    ${all}    7
    ${some} =    List Process Run Outputs    ${id}    limit=2
    Length Should Be    ${some}    2

Stop Process Run Ends A Run That Never Ends By Itself
    ${id} =    Start Process Run    forever
    ${accepted} =    Stop Process Run    ${id}    reason=Stopped by the acceptance tests
    Should Be True    ${accepted}
    ${run} =    Wait Until Process Run Completes    ${id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved

Stop Process Run With Remaining Work Items Done Completes The Run
    ${id} =    Start Process Run    forever
    Stop Process Run    ${id}    set_remaining_work_items_as_done=True
    ...    terminate_ongoing_activity_runs=True
    ${run} =    Wait Until Process Run Completes    ${id}
    Should Be Equal    ${run.state}    completed

Stop Process Run Of An Ended Run Is Not Accepted
    ${id} =    Start Process Run    quick
    Wait Until Process Run Completes    ${id}
    ${accepted} =    Stop Process Run    ${id}
    Should Not Be True    ${accepted}

Delete Process Run
    ${id} =    Start Process Run    quick
    Wait Until Process Run Completes    ${id}
    Delete Process Run    ${id}
    Run Keyword And Expect Error    GET * failed: 404 Not Found: *    Get Process Run    ${id}

Delete Process Run That Has Not Ended Fails With Conflict
    ${id} =    Start Process Run    forever
    Run Keyword And Expect Error
    ...    DELETE /workspaces/${WORKSPACE_ID}/process-runs/${id} failed: 409 Conflict: conflict: Process run '${id}' has not ended (state *): only completed or unresolved process runs can be deleted.
    ...    Delete Process Run    ${id}
    [Teardown]    Stop Process Run    ${id}
