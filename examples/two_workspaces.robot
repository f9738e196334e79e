*** Settings ***
Documentation     Two workspaces, each behind an emulator of its own: a robot that starts
...               the same process in production and in staging, tested offline. Each
...               ``ProcessRunLibrary.Emulator`` import with ``AS`` is an emulator of its
...               own (its own port, workspace and key); each workspace is a session of
...               ProcessRunLibrary, picked with ``alias=``.

Library           ProcessRunLibrary    timeout=1 minute    poll_interval=1 s
Library           ProcessRunLibrary.Emulator    AS    Production
Library           ProcessRunLibrary.Emulator    AS    Staging

Suite Setup       Start Both Workspaces
Suite Teardown    Run Keywords    Production.Stop Emulator    AND    Staging.Stop Emulator
...                   AND    Close All Control Room Sessions


*** Variables ***
${PRODUCTION KEY}    production-key-not-a-secret
${STAGING KEY}       staging-key-not-a-secret
${STAGING URL}       ${None}


*** Test Cases ***
Each workspace runs its own processes
    ${run} =    Start Process Run And Wait    invoices    alias=production
    Should Be Equal    ${run.state}    completed
    ${run} =    Start Process Run And Wait    invoices    alias=staging
    Should Be Equal    ${run.state}    completed
    ${production} =    Production.Get Emulator Runs
    ${staging} =    Staging.Get Emulator Runs
    Length Should Be    ${production}    1
    Length Should Be    ${staging}    1
    Should Not Be Equal    ${production}[0][id]    ${staging}[0][id]

A key opens its own workspace only
    Create Control Room Session    crossed    api_url=${STAGING URL}
    ...    workspace_id=production-workspace    api_key=${PRODUCTION KEY}
    Run Keyword And Expect Error    *403 Forbidden*
    ...    List Process Runs    alias=crossed


*** Keywords ***
Start Both Workspaces
    ${url} =    Production.Start Emulator    production-workspace    ${PRODUCTION KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    production    api_url=${url}
    ...    workspace_id=production-workspace    api_key=${PRODUCTION KEY}
    ${url} =    Staging.Start Emulator    staging-workspace    ${STAGING KEY}
    ...    config=${CURDIR}/emulator-config.json    clock_factor=10
    Create Control Room Session    staging    api_url=${url}
    ...    workspace_id=staging-workspace    api_key=${STAGING KEY}
    Set Suite Variable    ${STAGING URL}    ${url}
