*** Settings ***
Documentation    Sessions, configuration from import arguments and environment variables.

Resource         common.resource
Library          OperatingSystem

Suite Setup      Set Library Search Order    ProcessRunLibrary
Test Teardown    Close All Control Room Sessions


*** Test Cases ***
The Default Session Is Created From The Import Arguments On First Use
    Close All Control Room Sessions
    Start Process Run    quick
    ${previous} =    Switch Control Room Session    default
    Should Be Equal    ${previous}    default

Sessions Keep Their Own Settings
    Create Control Room Session    good    api_url=${API_URL}    api_key=${API_KEY}
    Create Control Room Session    broken    api_url=${API_URL}    api_key=not-the-key    max_retries=0
    Run Keyword And Expect Error
    ...    GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: 403 Forbidden: forbidden: The API key or token in the Authorization header is not valid.
    ...    Get Process Run    x
    Run Keyword And Expect Error    GET * failed: 404 Not Found: *    Get Process Run    x    alias=good

Switch Control Room Session Returns The Previous Alias
    Create Control Room Session    first
    Create Control Room Session    second
    ${previous} =    Switch Control Room Session    first
    Should Be Equal    ${previous}    second
    ${previous} =    Switch Control Room Session    second
    Should Be Equal    ${previous}    first

Switch To An Unknown Session Fails Naming The Alias
    Create Control Room Session    known
    Run Keyword And Expect Error
    ...    Argument 'alias' names no Control Room session: 'unknown'. Sessions: 'known'.
    ...    Switch Control Room Session    unknown

Missing Values Fall Back To The Environment
    Set Environment Variable    RC_API_URL_V1    ${API_URL}
    Set Environment Variable    RC_WORKSPACE_ID    ${WORKSPACE_ID}
    Set Environment Variable    RC_API_KEY    ${API_KEY}
    Import Library    ProcessRunLibrary    AS    FromEnvironment
    ${id} =    FromEnvironment.Start Process Run    quick    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    ${run} =    FromEnvironment.Wait Until Process Run Completes    ${id}    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    Should Be Equal    ${run.state}    completed
    ${headers} =    Headers Of The Request To    /workspaces/${WORKSPACE_ID}/process-runs/${id}
    Should Be Equal    ${headers}[Authorization]    RC-WSKEY ***
    [Teardown]    Remove Environment Variable    RC_API_URL_V1    RC_WORKSPACE_ID    RC_API_KEY

A Control Room Token Is Sent As Bearer
    [Documentation]    atest/run.py sets RC_API_TOKEN_V1 as Control Room does in its runs.
    Create Control Room Session    token    api_url=${API_URL}    workspace_id=${WORKSPACE_ID}
    ...    api_key=${EMPTY}
    ${id} =    Start Process Run    quick
    Get Process Run    ${id}
    ${headers} =    Headers Of The Request To    /workspaces/${WORKSPACE_ID}/process-runs/${id}
    Should Be Equal    ${headers}[Authorization]    Bearer ***

Every Request Names The Library And Asks For JSON
    ${id} =    Start Process Run    quick
    Get Process Run    ${id}
    ${headers} =    Headers Of The Request To    /workspaces/${WORKSPACE_ID}/process-runs/${id}
    Should Be Equal    ${headers}[Accept]    application/json
    Should Match Regexp    ${headers}[User-Agent]    ^ProcessRunLibrary/\\d+\\.\\d+\\.\\d+

A Missing Workspace Id Fails Naming The Argument And The Variable
    Remove Environment Variable    RC_WORKSPACE_ID
    Import Library    ProcessRunLibrary    api_key=x    AS    NoWorkspace
    Run Keyword And Expect Error
    ...    No workspace id: give 'workspace_id' when importing ProcessRunLibrary or to 'Create Control Room Session', or set the environment variable RC_WORKSPACE_ID.
    ...    NoWorkspace.Get Process Run    x    # robotcode: ignore[KeywordNotFound]    (imported at run time)

A Missing API Key Fails Naming The Argument And The Variables
    ${token} =    Get Environment Variable    RC_API_TOKEN_V1
    Remove Environment Variables
    Import Library    ProcessRunLibrary    workspace_id=ws    AS    NoKey
    Run Keyword And Expect Error
    ...    No API key: give 'api_key' when importing ProcessRunLibrary or to 'Create Control Room Session', or set the environment variable RC_API_KEY (inside a Control Room run, RC_API_TOKEN_V1 is used).
    ...    NoKey.Get Process Run    x    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    [Teardown]    Set Environment Variable    RC_API_TOKEN_V1    ${token}

A Closed Port Fails With Connection Refused
    Create Control Room Session    closed    api_url=http://127.0.0.1:9/api/v1    max_retries=0
    Run Keyword And Expect Error
    ...    GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: connection refused.
    ...    Get Process Run    x


*** Keywords ***
Remove Environment Variables
    Remove Environment Variable    RC_API_URL_V1    RC_WORKSPACE_ID    RC_API_KEY    RC_API_TOKEN_V1
    Close All Control Room Sessions

Headers Of The Request To
    [Arguments]    ${path}
    ${requests} =    Emulator.Get Requests    GET    ${path}
    RETURN    ${requests}[-1][headers]
