*** Settings ***
Documentation     One emulator process serving two workspaces, each opened by its own key,
...               driven by ProcessRunLibrary over HTTP: two sessions, one per workspace.
...               The second workspace's key is given as a plain string, positionally, so
...               that the secret scan of atest/run.py sees whether it is masked at TRACE.

Resource          ../resources/private_emulator.resource
Library           ProcessRunLibrary.Emulator    AS    Other

Suite Setup       Start Two Workspaces
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions
Test Setup        Private.Reset Emulator    processes=${True}


*** Variables ***
${SECOND}    atest-second-workspace


*** Test Cases ***
Each Session Starts Runs In Its Own Workspace
    Private.Switch Emulator Workspace    ${SECOND}
    Private.Define Process    staging-only    new_seconds=0 s    run_seconds=0.2 s
    ${run} =    Start Process Run And Wait    staging-only    alias=second
    Should Be Equal    ${run.state}    completed
    ${second} =    Private.Get Emulator Runs
    Should Be Equal    ${second}[0][id]    ${run.id}
    Private.Switch Emulator Workspace    ${WORKSPACE_ID}
    ${first} =    Private.Get Emulator Runs
    Should Be Empty    ${first}
    Run Keyword And Expect Error
    ...    POST /workspaces/${WORKSPACE_ID}/processes/staging-only/process-runs failed: 404 Not Found: not_found: Process 'staging-only' not found.
    ...    Start Process Run    staging-only    alias=private

A Key Opens Its Own Workspace Only
    Create Control Room Session    crossed    api_url=${PRIVATE URL}
    ...    workspace_id=${WORKSPACE_ID}    api_key=${SECOND_KEY}
    Run Keyword And Expect Error
    ...    GET /workspaces/${WORKSPACE_ID}/process-runs?limit=100 failed: 403 Forbidden: forbidden: No access to workspace '${WORKSPACE_ID}' with this API key.
    ...    List Process Runs    alias=crossed

A Fault Can Target One Workspace
    Private.Inject Fault    status=500    path=^/workspaces/${SECOND}/process-runs$    times=${99}
    ${runs} =    List Process Runs    alias=private
    Should Be Empty    ${runs}
    Run Keyword And Expect Error
    ...    GET /workspaces/${SECOND}/process-runs?limit=100 failed: 500 Internal Server Error: internal_server_error: Injected fault f1: 500 Internal Server Error.
    ...    List Process Runs    alias=second

Switching To A Workspace Without Its Key Fails
    Run Keyword And Expect Error
    ...    No key for workspace 'qa': add it with 'Add Emulator Workspace' or give its 'api_key'. Workspaces known: '${WORKSPACE_ID}', '${SECOND}'.
    ...    Private.Switch Emulator Workspace    qa

A Workspace Id Or Key Taken Already Is Refused
    Run Keyword And Expect Error
    ...    Emulator admin request POST /_emulator/workspaces failed with status 400: Workspace '${SECOND}' is served already.
    ...    Private.Add Emulator Workspace    ${SECOND}    another-key-1
    Run Keyword And Expect Error
    ...    Emulator admin request POST /_emulator/workspaces failed with status 400: Workspace 'qa' needs an API key of its own: workspace '${WORKSPACE_ID}' has this one.
    ...    Private.Add Emulator Workspace    qa    ${API_KEY}

Two Emulators Run Side By Side
    [Documentation]    Each import name of the Emulator library is an emulator of its own:
    ...    its own port, workspaces and runs.
    ${other url} =    Other.Start Emulator    other-workspace    other-key-1    clock_factor=10
    Should Not Be Equal    ${other url}    ${PRIVATE URL}
    Create Control Room Session    other    api_url=${other url}
    ...    workspace_id=other-workspace    api_key=other-key-1
    ${run} =    Start Process Run And Wait    demo-quick    alias=other
    Should Be Equal    ${run.state}    completed
    ${others} =    Other.Get Emulator Runs
    ${mine} =    Private.Get Emulator Runs
    Length Should Be    ${others}    1
    Should Be Empty    ${mine}
    [Teardown]    Other.Stop Emulator


*** Keywords ***
Start Two Workspaces
    Start Private Emulator
    Private.Add Emulator Workspace    ${SECOND}    ${SECOND_KEY}
    Create Control Room Session    second    api_url=${PRIVATE URL}
    ...    workspace_id=${SECOND}    api_key=${SECOND_KEY}
