*** Settings ***
Documentation     The API key, Bearer token, integration tokens and callback secrets are
...               masked everywhere, also on the failure paths.
...
...               The test cases here use the run's secrets (\${API_KEY}, \${BEARER_TOKEN},
...               \${INTEGRATION_TOKEN}, \${CALLBACK_SECRET}): atest/run.py searches every
...               output file and the console for them afterwards, at log level TRACE. The
...               last ones run secrets_cases.robot in a child robot with a fresh secret
...               per case, so that no case is masked only because an earlier one made the
...               library learn the value, and count each in the child's output.
...
...               The child robot also runs with a second listener, SecretCounter.py, that
...               plays a user's ``--listener`` (ReportPortal, Allure): it counts the secrets
...               in everything Robot Framework gives it, which must be none.
...
...               It runs on every Robot Framework version the library supports; the cases
...               that use Robot Framework 7.4's ``Secret`` type are tagged
...               ``requires-rf-7.4`` (the Robot Framework 6.1 run of CI leaves them out with
...               ``--exclude requires-rf-7.4``, and the child robot leaves out its own).

Resource          private_emulator.resource
Library           OperatingSystem
Library           Process
Library           SecretScan.py
Library           SignedUrlServer.py

Suite Setup       Start Secrets Suite
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions
Test Setup        Private.Reset Emulator
Test Teardown     Switch Control Room Session    private


*** Variables ***
${SECRET KEY: Secret}    %{ATEST_API_KEY=atest-key}
${PYTHON}                ${{sys.executable}}
${FORBIDDEN}
...                      failed: 403 Forbidden: forbidden: The API key or token in the Authorization header is not valid.
${INTEGRATION}
...                      POST /workspaces/${WORKSPACE_ID}/processes/quick/process-runs-integrations?token=***
@{FRESH}
...                      FRESH_KEY_NAMED    FRESH_KEY_POSITIONAL    FRESH_KEY_SECRET
...                      FRESH_KEY_IMPORT    FRESH_KEY_KWARGS    FRESH_KEY_WRAPPER
...                      FRESH_TOKEN_NAMED    FRESH_TOKEN_POSITIONAL    FRESH_TOKEN_SECRET
...                      FRESH_TOKEN_REFUSED    FRESH_TOKEN_LOST    FRESH_CALLBACK_NAMED
...                      FRESH_CALLBACK_SECRET    FRESH_CALLBACK_REFUSED    FRESH_KEY_ENVIRONMENT
...                      FRESH_KEY_UNDEFINED    FRESH_KEY_RUN_KEYWORD    FRESH_KEY_WORKSPACE
...                      FRESH_KEY_SWITCH    FRESH_KEY_SPACED    FRESH_TOKEN_EMULATOR
...                      FRESH_TOKEN_LIST


*** Test Cases ***
A Wrong Key Given As A Named Argument Fails With 403 And Is Not Shown
    Create Control Room Session    named    api_url=${PRIVATE URL}    api_key=${CALLBACK_SECRET}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x
    Statuses Should Be    GET    .    403

A Wrong Key Given Positionally Fails With 403 And Is Not Shown
    Create Control Room Session    positional    ${PRIVATE URL}    ${WORKSPACE_ID}
    ...    ${INTEGRATION_TOKEN}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x
    ${requests} =    Private.Get Requests
    Should Be Equal    ${requests}[0][headers][Authorization]    RC-WSKEY ***

A Failing Integration Start Shows Its Token Masked
    Run Keyword And Expect Error
    ...    EQUALS:${INTEGRATION} failed: 403 Forbidden: forbidden: The token is not valid.
    ...    Start Process Run For Integration    quick    {"n": 1}    token=${CALLBACK_SECRET}
    Run Keyword And Expect Error
    ...    EQUALS:${INTEGRATION} failed: 403 Forbidden: forbidden: The token is not valid.
    ...    Start Process Run For Integration    quick    {"n": 2}    ${None}    ${INTEGRATION_TOKEN}
    ${requests} =    Private.Get Requests    POST
    Should Be Equal    ${requests}[0][query][token]    ***

An Integration Start Whose Answer Was Lost Shows Its Token Masked
    Private.Inject Fault    method=POST    path=${INTEGRATION PATH}    lost_answer=${True}
    Run Keyword And Expect Error
    ...    EQUALS:${INTEGRATION} failed: 502 Bad Gateway: bad_gateway: Injected fault f1: 502 Bad Gateway. ${MAY HAVE STARTED}
    ...    Start Process Run For Integration    quick    {}    token=${BEARER_TOKEN}
    Emulator Should Have Runs    1

A Request Error Message With The URL Shows The Token Masked
    Create Control Room Session    closed    api_url=http://127.0.0.1:9/api/v1    max_retries=1
    Run Keyword And Expect Error
    ...    EQUALS:${INTEGRATION}&with_handshake=asana failed: connection refused (after 1 retry).
    ...    Start Process Run For Integration    quick    {}    with_handshake=asana
    ...    token=${INTEGRATION_TOKEN}

The Bearer Token From The Environment Is Not Shown
    Create Control Room Session    bearer    api_url=${PRIVATE URL}    api_key=${EMPTY}
    Start Process Run    quick
    ${requests} =    Private.Get Requests    POST
    Should Be Equal    ${requests}[0][headers][Authorization]    Bearer ***

A Callback Secret Is Sent, And Masked In The DEBUG Body
    Start Process Run    quick    payload={"n": 1}    callback_url=http://127.0.0.1:9/hook
    ...    callback_secret=${CALLBACK_SECRET}    callback_events=${{["completed"]}}
    ${runs} =    Emulator Should Have Runs    1
    Should Be Equal    ${runs}[0][callback][callback_events]    ${{["completed"]}}

Keys And Tokens May Be Robot Framework Secrets
    [Tags]    requires-rf-7.4
    Create Control Room Session    secret    api_url=${PRIVATE URL}    api_key=${SECRET KEY}
    ${id} =    Start Process Run    quick
    ${run} =    Wait Until Process Run Completes    ${id}
    Should Be Equal    ${run.state}    completed
    VAR    ${token: Secret}    %{ATEST_BEARER_TOKEN=atest-token}
    ${id} =    Start Process Run For Integration    quick    {"n": 1}    token=${token}
    Should Not Be Empty    ${id}
    VAR    ${wrong: Secret}    %{ATEST_INTEGRATION_TOKEN=atest-integration}
    Create Control Room Session    wrong secret    ${PRIVATE URL}    ${WORKSPACE_ID}    ${wrong}
    Run Keyword And Expect Error    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x ${FORBIDDEN}
    ...    Get Process Run    x

Fresh Secrets Given Every Way Appear Nowhere In The Output
    [Documentation]    Counts each fresh secret of secrets_cases.robot in the child's output.xml,
    ...    log.html and console output.
    ${counts} =    Count Fresh Secrets In    ${CHILD OUTPUT}    ${CHILD LOG}    ${CHILD CONSOLE}
    ${total} =    Evaluate    sum($counts.values())
    Log    Fresh secrets in the child run's output.xml, log.html and console at TRACE: ${counts} (${total} in all)
    Should Be Equal    ${total}    ${0}    Secrets found: ${counts}

Another Listener Receives No Secret
    [Documentation]    SecretCounter.py, given to the child robot with ``--listener``, counted
    ...    the fresh secrets and the run's secrets in every call it got. Robot Framework 7.1
    ...    and newer call the library's listener first (``ROBOT_LISTENER_PRIORITY``); older
    ...    versions call listeners given with ``--listener`` before any library listener, so
    ...    there such a listener sees what Robot logs before the library can mask it.
    ${counted} =    Evaluate    json.loads(pathlib.Path($CHILD_LISTENER).read_text())
    Log    The other listener got ${counted}[calls] calls and ${counted}[total] secrets: ${counted}[by_method]
    Should Be True    ${counted}[calls] > 100    The other listener got only ${counted}[calls] calls.
    Skip If    not $ROBOT_71    Robot Framework ${ROBOT VERSION} has no listener priority: the other listener got ${counted}[total] secrets.
    Should Be Equal    ${counted}[total]    ${0}    Secrets found: ${counted}[where]
    ...    values=False

The Library's Listener Logs No Error, Also In A Dry Run
    [Documentation]    An undefined variable where a secret stands (secrets_cases.robot
    ...    has one positionally and one named) made the listener log an ERROR, in runs
    ...    and in dry runs.
    ${output} =    Get File    ${CHILD OUTPUT}
    Should Not Contain    ${output}    level="ERROR"
    ${result} =    Run Process    ${PYTHON}    -m    robot    --dryrun    --output    NONE
    ...    --report    NONE    --log    NONE    @{OLDER ROBOT}    ${CURDIR}/../resources/secrets_cases.robot
    ...    stderr=STDOUT    timeout=1 minute    on_timeout=kill
    Should Not Contain    ${result.stdout}    [ ERROR ]
    Should Be Equal As Integers    ${result.rc}    0    ${result.stdout}

Other Libraries' Text Is Not Rewritten By Pattern
    [Documentation]    The listener masks known secrets only: secret-shaped text of other
    ...    libraries stays as it is.
    Run Keyword And Expect Error    EQUALS:token=abc123 != token=abc124
    ...    Should Be Equal    token=abc123    token=abc124
    Run Keyword And Expect Error    EQUALS:https://h/f?X-Amz-Signature=s1 != https://h/f?X-Amz-Signature=s2
    ...    Should Be Equal    https://h/f?X-Amz-Signature=s1    https://h/f?X-Amz-Signature=s2

Credentials In A URL's Path Or Escaped Query Appear Nowhere At TRACE
    [Documentation]    A false Control Room (SignedUrlServer.py) answers with download URLs
    ...    whose credentials are a path segment, or a query parameter of no known name
    ...    that its JSON writes with ``\\/``; a child robot reads the work item, logs its
    ...    URLs (at INFO and WARN) and downloads an artifact, at TRACE with --debugfile
    ...    and SecretCounter.py as a second listener. No credential reaches output.xml,
    ...    log.html, the debug file, the console or the other listener.
    Create Fresh Secrets    FRESH_PATH_TOKEN    FRESH_ARTIFACT_TOKEN    FRESH_ESCAPED_QUERY
    Start Signed Url Server
    ${child} =    Set Variable    ${OUTPUT DIR}${/}signed_url_cases
    ${result} =    Run Process    ${PYTHON}    -m    robot    --output    ${child}.xml
    ...    --log    ${child}.html    --report    NONE    --debugfile    ${child}-debug.txt
    ...    --loglevel    TRACE    --outputdir    ${OUTPUT DIR}
    ...    --listener    ${CURDIR}/../resources/SecretCounter.py:${child}-listener.json
    ...    ${CURDIR}/../resources/signed_url_cases.robot
    ...    stdout=${child}.txt    stderr=STDOUT    timeout=2 minutes    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    0
    ...    signed_url_cases.robot failed, see ${child}.html    values=False
    ${counts} =    Count Fresh Secrets In    ${child}.xml    ${child}.html    ${child}-debug.txt
    ...    ${child}.txt
    ${total} =    Evaluate    sum($counts.values())
    Should Be Equal    ${total}    ${0}    Secrets found: ${counts}
    ${counted} =    Evaluate    json.loads(pathlib.Path($child + "-listener.json").read_text())
    Should Be True    ${counted}[calls] > 10    The other listener got only ${counted}[calls] calls.
    Skip If    not $ROBOT_71    Robot Framework ${ROBOT VERSION} has no listener priority: the other listener got ${counted}[total] secrets.
    Should Be Equal    ${counted}[total]    ${0}    Secrets found: ${counted}[where]
    ...    values=False
    [Teardown]    Stop Signed Url Server


*** Keywords ***
Start Secrets Suite
    Start Private Emulator    tokens=${{[$BEARER_TOKEN]}}
    Set Environment Variable    SECRETS_API_URL    ${PRIVATE URL}
    Create Fresh Secrets    @{FRESH}    FRESH_CALLBACK_POSITIONAL
    Set Suite Variable    ${CHILD OUTPUT}    ${OUTPUT DIR}/secrets_cases.xml
    Set Suite Variable    ${CHILD LOG}    ${OUTPUT DIR}/secrets_cases.html
    Set Suite Variable    ${CHILD CONSOLE}    ${OUTPUT DIR}/secrets_cases.txt
    Set Suite Variable    ${CHILD LISTENER}    ${OUTPUT DIR}/secrets_cases_listener.json
    ${version} =    Evaluate    robot.version.VERSION
    ${rf 71} =    Evaluate    tuple(int(p) for p in re.findall(r"\\d+", $version)[:2]) >= (7, 1)
    ${rf 74} =    Evaluate    tuple(int(p) for p in re.findall(r"\\d+", $version)[:2]) >= (7, 4)
    Set Suite Variable    ${ROBOT VERSION}    ${version}
    Set Suite Variable    ${ROBOT 71}    ${rf 71}
    @{older} =    Set Variable If    ${rf 74}    ${{[]}}    ${{["--exclude", "requires-rf-7.4"]}}
    Set Suite Variable    @{OLDER ROBOT}    @{older}
    # The key for the child's import comes from the environment: Robot Framework shows
    # import arguments to every listener before the library is there to mask them. (Not
    # with Run Process's env: it logs the whole environment, fresh secrets included.)
    Set Environment Variable    RC_API_KEY    %{ATEST_API_KEY}
    ${result} =    Run Process    ${PYTHON}    -m    robot    --output    ${CHILD OUTPUT}
    ...    --log    ${CHILD LOG}    --report    NONE    --loglevel    TRACE    @{older}
    ...    --listener    ${CURDIR}/../resources/SecretCounter.py:${CHILD LISTENER}
    ...    ${CURDIR}/../resources/secrets_cases.robot
    ...    stdout=${CHILD CONSOLE}    stderr=STDOUT    timeout=2 minutes    on_timeout=kill
    Remove Environment Variable    RC_API_KEY
    Should Be Equal As Integers    ${result.rc}    0
    ...    secrets_cases.robot failed, see ${CHILD LOG}    values=False
