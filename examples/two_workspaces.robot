*** Settings ***
Documentation     Two workspaces of one Control Room, production and staging, served by one
...               emulator: a robot that starts the same process in both, tested offline.
...               Each workspace has its own key and is a session of ProcessRunLibrary,
...               picked with ``alias=``; `Switch Emulator Workspace` picks the workspace
...               that the emulator's own keywords act on.

Library           ProcessRunLibrary    timeout=1 minute    poll_interval=1 s
Library           ProcessRunLibrary.Emulator

Suite Setup       Start Both Workspaces
Suite Teardown    Run Keywords    Stop Emulator    AND    Close All Control Room Sessions


*** Variables ***
${PRODUCTION KEY}    production-key-not-a-secret
${STAGING KEY}       staging-key-not-a-secret
${URL}               ${None}


*** Test Cases ***
Each workspace runs its own processes
    ${run} =    Start Process Run And Wait    invoices    alias=production
    Should Be Equal    ${run.state}    completed
    ${run} =    Start Process Run And Wait    invoices    alias=staging
    Should Be Equal    ${run.state}    completed
    Switch Emulator Workspace    production-workspace
    ${production} =    Get Emulator Runs
    Switch Emulator Workspace    staging-workspace
    ${staging} =    Get Emulator Runs
    Length Should Be    ${production}    1
    Length Should Be    ${staging}    1
    Should Not Be Equal    ${production}[0][id]    ${staging}[0][id]

A process defined in staging only
    Switch Emulator Workspace    staging-workspace
    Define Process    new-invoices    run_seconds=2 s
    ${run} =    Start Process Run And Wait    new-invoices    alias=staging
    Should Be Equal    ${run.state}    completed
    Run Keyword And Expect Error    *404 Not Found*Process 'new-invoices' not found.
    ...    Start Process Run    new-invoices    alias=production

A key opens its own workspace only
    Create Control Room Session    crossed    api_url=${URL}
    ...    workspace_id=production-workspace    api_key=${STAGING KEY}
    Run Keyword And Expect Error    *403 Forbidden*No access to workspace 'production-workspace'*
    ...    List Process Runs    alias=crossed


*** Keywords ***
Start Both Workspaces
    ${url} =    Start Emulator    production-workspace    ${PRODUCTION KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Add Emulator Workspace    staging-workspace    ${STAGING KEY}
    Create Control Room Session    production    api_url=${url}
    ...    workspace_id=production-workspace    api_key=${PRODUCTION KEY}
    Create Control Room Session    staging    api_url=${url}
    ...    workspace_id=staging-workspace    api_key=${STAGING KEY}
    Set Suite Variable    ${URL}    ${url}
