*** Settings ***
Documentation    Run by secrets.robot in a child robot at TRACE. Each case gives the library
...              a secret that the run has not seen before (%{FRESH_...}, made by
...              secrets.robot), on one path: named, positional, Secret, through a
...              wrapper keyword, refused before use, in a failing request. secrets.robot
...              then counts each secret in this run's output.xml, log.html and console.
...
...              The key of the import comes from RC_API_KEY: Robot Framework shows the
...              arguments of the first import of a library to every listener before the
...              library can mask anything (see the library's "Logging and secrets").

Library          OperatingSystem
Library          ProcessRunLibrary    api_url=%{SECRETS_API_URL}
...                  workspace_id=%{ATEST_WORKSPACE_ID}    max_retries=0
Library          ProcessRunLibrary.Emulator    api_url=%{SECRETS_API_URL}
...              api_key=%{ATEST_API_KEY}    AS    Emulator

Suite Setup      Start Secrets Cases
Test Teardown    End Secrets Case


*** Variables ***
${FORBIDDEN}      failed: 403 Forbidden: forbidden: The API key or token in the Authorization header is not valid.
${INTEGRATION}    POST /workspaces/%{ATEST_WORKSPACE_ID}/processes/quick/process-runs-integrations?token=***
${BAD TOKEN}      failed: 403 Forbidden: forbidden: The token is not valid.


*** Test Cases ***
Wrong Key Given As A Named Argument
    Create Control Room Session    named    api_key=%{FRESH_KEY_NAMED}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Wrong Key Given Positionally
    Create Control Room Session    positional    %{SECRETS_API_URL}    %{ATEST_WORKSPACE_ID}
    ...    %{FRESH_KEY_POSITIONAL}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Wrong Key Given As A Secret
    [Tags]    requires-rf-7.4
    VAR    ${key: Secret}    %{FRESH_KEY_SECRET}
    Create Control Room Session    secret    %{SECRETS_API_URL}    %{ATEST_WORKSPACE_ID}    ${key}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Wrong Key Given Positionally To An Import With A Bad Argument
    Import Library    ProcessRunLibrary    %{SECRETS_API_URL}    %{ATEST_WORKSPACE_ID}
    ...    %{FRESH_KEY_IMPORT}    timeout=never    AS    Imported
    Run Keyword And Expect Error
    ...    EQUALS:ProcessRunLibrary was imported with a bad argument: Argument 'timeout' got value 'never': expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'.
    ...    Imported.Wait Until Process Run Completes    x    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Imported.Get Process Run    x    # robotcode: ignore[KeywordNotFound]    (imported at run time)

Wrong Key Through A Wrapper Keyword's Named Arguments
    Create Session Through A Wrapper    api_key=%{FRESH_KEY_KWARGS}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Wrong Key Through A Wrapper Keyword's api_key Argument
    Create Session With A Key    %{FRESH_KEY_WRAPPER}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Wrong Integration Token Given As A Named Argument
    Run Keyword And Expect Error    EQUALS:${INTEGRATION} ${BAD TOKEN}
    ...    Start Process Run For Integration    quick    {}    token=%{FRESH_TOKEN_NAMED}

Wrong Integration Token Given Positionally
    Run Keyword And Expect Error    EQUALS:${INTEGRATION} ${BAD TOKEN}
    ...    Start Process Run For Integration    quick    {}    ${None}    %{FRESH_TOKEN_POSITIONAL}

Wrong Integration Token Given As A Secret
    [Tags]    requires-rf-7.4
    VAR    ${token: Secret}    %{FRESH_TOKEN_SECRET}
    Run Keyword And Expect Error    EQUALS:${INTEGRATION}&with_handshake=asana ${BAD TOKEN}
    ...    Start Process Run For Integration    quick    {}    asana    ${token}

Integration Token In A Connection Error
    Create Control Room Session    closed    api_url=http://127.0.0.1:9/api/v1
    Run Keyword And Expect Error    EQUALS:${INTEGRATION} failed: connection refused.
    ...    Start Process Run For Integration    quick    {}    token=%{FRESH_TOKEN_REFUSED}

Integration Token In A Lost Answer
    Emulator.Inject Fault    method=POST    path=/process-runs-integrations$    lost_answer=${True}
    Run Keyword And Expect Error
    ...    EQUALS:${INTEGRATION} failed: 502 Bad Gateway: bad_gateway: Injected fault f1: 502 Bad Gateway. The process run may have been started anyway: a start is not repeated after such an error, so that no run is started twice; List Process Runs shows whether it exists.
    ...    Start Process Run For Integration    quick    {}    token=%{FRESH_TOKEN_LOST}

Callback Secret Sent In A Body Logged At DEBUG
    Emulator.Clear Request Log
    ${id} =    Start Process Run    quick    callback_url=http://127.0.0.1:9/hook
    ...    callback_secret=%{FRESH_CALLBACK_NAMED}
    ${requests} =    Emulator.Get Requests    POST    /process-runs$
    Should Be Equal    ${requests}[0][body][callback][url]    http://127.0.0.1:9/hook
    Wait Until Process Run Completes    ${id}

Callback Secret Given As A Secret
    [Tags]    requires-rf-7.4
    VAR    ${secret: Secret}    %{FRESH_CALLBACK_SECRET}
    Start Process Run    quick    callback_url=http://127.0.0.1:9/hook    callback_secret=${secret}

Callback Secret Refused Before It Is Used
    Run Keyword And Expect Error    EQUALS:Argument 'callback_secret' needs 'callback_url'.
    ...    Start Process Run    quick    callback_secret=%{FRESH_CALLBACK_REFUSED}

Callback Secret Given Positionally
    Start Process Run    quick    ${None}    ${None}    ${None}    ${False}    http://127.0.0.1:9/hook
    ...    %{FRESH_CALLBACK_POSITIONAL}

Wrong Key Set In The Environment After The Import
    Set Environment Variable    RC_API_KEY    %{FRESH_KEY_ENVIRONMENT}
    Create Control Room Session    environment
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x
    [Teardown]    Run Keywords    Set Environment Variable    RC_API_KEY    %{ATEST_API_KEY}
    ...    AND    End Secrets Case

An Undefined Variable Where A Secret Stands Is Robot's Error, Not The Listener's
    [Documentation]    The listener cannot resolve ${UNDEFINED}; it leaves the failure to
    ...    Robot and logs nothing (secrets.robot counts ERROR lines in this run's output).
    Run Keyword And Expect Error    EQUALS:Variable '\${UNDEFINED}' not found.
    ...    Create Control Room Session    undefined    %{SECRETS_API_URL}    %{ATEST_WORKSPACE_ID}
    ...    ${UNDEFINED}    # robotcode: ignore[VariableNotFound]    (undefined on purpose)
    Run Keyword And Expect Error    EQUALS:Variable '\${UNDEFINED}' not found.
    ...    Start Process Run For Integration    quick    {}    token=${UNDEFINED}    # robotcode: ignore[VariableNotFound]    (undefined on purpose)
    Create Control Room Session    undefined    %{SECRETS_API_URL}    %{ATEST_WORKSPACE_ID}
    ...    %{FRESH_KEY_UNDEFINED}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Wrong Key Given To A Keyword Run By Run Keyword
    Run Keyword    Create Control Room Session    run keyword    api_key=%{FRESH_KEY_RUN_KEYWORD}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/%{ATEST_WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Key Of A Workspace Added To The Emulator, Positionally
    Emulator.Add Emulator Workspace    secrets-cases-ws    %{FRESH_KEY_WORKSPACE}
    Create Control Room Session    added    workspace_id=secrets-cases-ws
    ...    api_key=%{FRESH_KEY_WORKSPACE}
    ${runs} =    List Process Runs
    Should Be Empty    ${runs}

Wrong Key Given To Switch Emulator Workspace Through A Wrapper
    Run Keyword And Expect Error
    ...    EQUALS:Emulator admin request GET /_emulator/workspaces failed with status 403: The API key or token in the Authorization header is not valid.
    ...    Emulator.Switch Emulator Workspace    secrets-cases-ws    %{FRESH_KEY_SWITCH}

Key With A Space At Its End Refused By The Emulator
    Run Keyword And Expect Error
    ...    EQUALS:Emulator admin request POST /_emulator/workspaces failed with status 400: The API key of workspace 'spaced' must be 1 to 1024 printable ASCII characters, with no space at either end.
    ...    Emulator.Add Emulator Workspace    spaced    %{FRESH_KEY_SPACED}${SPACE}

Token Given To The Emulator, Positionally
    Emulator.Add Emulator Token    %{FRESH_TOKEN_EMULATOR}

Tokens Of A Started Emulator Given As A List Literal
    Import Library    ProcessRunLibrary.Emulator    AS    Third
    Third.Start Emulator    third    third-key-1    tokens=["%{FRESH_TOKEN_LIST}"]    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    [Teardown]    Run Keywords    Third.Stop Emulator    AND    End Secrets Case    # robotcode: ignore[KeywordNotFound]    (imported at run time)


*** Keywords ***
Start Secrets Cases
    # A case imports the library again; its keywords still come from the first import.
    Set Library Search Order    ProcessRunLibrary
    Create Control Room Session    good

End Secrets Case
    Emulator.Clear Faults
    Switch Control Room Session    good

Create Session Through A Wrapper
    [Arguments]    &{settings}
    Create Control Room Session    wrapped    &{settings}

Create Session With A Key
    [Arguments]    ${api_key}
    Create Control Room Session    wrapped    api_key=${api_key}
