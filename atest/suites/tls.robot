*** Settings ***
Documentation     TLS against the emulator served over HTTPS with a throwaway CA (trustme):
...               verification is on by default, ``verify`` takes a CA bundle path (also
...               when REQUESTS_CA_BUNDLE names another), and ``verify=False`` warns once
...               per session, not per request.

Resource          private_emulator.resource
Library           OperatingSystem
Library           Process
Library           TlsFiles.py

Suite Setup       Start TLS Emulator
Suite Teardown    Stop TLS Emulator
Test Setup        Private.Clear Request Log
Test Teardown     Switch Control Room Session    private


*** Variables ***
# Set by the suite setup; declared so that `robot --dryrun` can import libraries with it.
&{TLS}       ca=${None}    other_ca=${None}    cert=${None}    key=${None}
${PYTHON}    ${{sys.executable}}


*** Test Cases ***
Certificates Are Verified By Default
    Create Control Room Session    default verify    api_url=${PRIVATE URL}
    # Not retried: a retry would end the message with " (after 1 retry)".
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: TLS certificate verification failed (give verify a CA bundle path).
    ...    Get Process Run    x
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}

A CA Bundle Path Is Trusted
    Create Control Room Session    ca bundle    api_url=${PRIVATE URL}    verify=${TLS}[ca]
    ${run} =    Start Process Run And Wait    quick    payload={"n": 1}
    Should Be Equal    ${run.state}    completed

A CA Bundle Path Is Trusted From The Import
    Import Library    ProcessRunLibrary    api_url=${PRIVATE URL}    workspace_id=${WORKSPACE_ID}
    ...    api_key=${API_KEY}    verify=${TLS}[ca]    AS    TrustingImport
    ${id} =    TrustingImport.Start Process Run    quick    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    ${state} =    TrustingImport.Get Process Run State    ${id}    # robotcode: ignore[KeywordNotFound]    (imported at run time)
    Should Not Be Empty    ${state}

Another CA Does Not Verify The Server
    Create Control Room Session    other ca    api_url=${PRIVATE URL}    verify=${TLS}[other_ca]
    Run Keyword And Expect Error
    ...    EQUALS:GET /workspaces/${WORKSPACE_ID}/process-runs/x failed: TLS certificate verification failed (give verify a CA bundle path).
    ...    Get Process Run    x

REQUESTS_CA_BUNDLE Does Not Override verify
    [Documentation]    requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE replace a session's
    ...    ``verify``; the library gives ``verify`` with every request. With ``verify=True``
    ...    the variables apply, as requests documents. (``verify=False`` under them: see
    ...    `Verify False Warns Once Per Session, Not Per Request`.)
    Set Environment Variable    REQUESTS_CA_BUNDLE    ${TLS}[other_ca]
    Set Environment Variable    CURL_CA_BUNDLE    ${TLS}[other_ca]
    Create Control Room Session    path over env    api_url=${PRIVATE URL}    verify=${TLS}[ca]
    Start Process Run    quick
    Set Environment Variable    REQUESTS_CA_BUNDLE    ${TLS}[ca]
    Create Control Room Session    env when verified    api_url=${PRIVATE URL}
    Start Process Run    quick
    ${sent} =    Private.Get Request Count    POST
    Should Be Equal    ${sent}    ${2}
    [Teardown]    Restore CA Bundle Variables

Verify False Warns Once Per Session, Not Per Request
    [Documentation]    A child robot makes two sessions with ``verify=False`` and sends
    ...    several requests in each, with REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE naming a CA
    ...    that did not sign the server's certificate; its output has exactly one warning
    ...    per session, and its console no urllib3 InsecureRequestWarning.
    # Not with env:NAME=value: Run Process would log the whole environment, secrets too.
    Set Environment Variable    REQUESTS_CA_BUNDLE    ${TLS}[other_ca]
    Set Environment Variable    CURL_CA_BUNDLE    ${TLS}[other_ca]
    ${result} =    Run Process    ${PYTHON}    -m    robot    --output    ${OUTPUT DIR}/tls_cases.xml
    ...    --log    NONE    --report    NONE    --loglevel    TRACE
    ...    ${CURDIR}/../resources/tls_cases.robot    stderr=STDOUT    timeout=1 minute
    ...    on_timeout=kill
    Restore CA Bundle Variables
    Should Be Equal As Integers    ${result.rc}    0    ${result.stdout}
    ${child} =    Evaluate    robot.api.ExecutionResult($OUTPUT_DIR + "/tls_cases.xml")
    ${warnings} =    Evaluate    [m.message for m in $child.errors.messages if m.level == "WARN"]
    ${unverified} =    Catenate    TLS certificate verification is off for the Control Room
    ...    session at ${PRIVATE URL} (verify=False): the connection is not protected against
    ...    impersonation.
    ${expected} =    Create List    ${unverified}    ${unverified}
    Should Be Equal    ${warnings}    ${expected}
    Should Not Contain    ${result.stdout}    InsecureRequestWarning
    ${sent} =    Private.Get Request Count
    Should Be True    ${sent} >= 10    Only ${sent} requests were sent.
    [Teardown]    Restore CA Bundle Variables


*** Keywords ***
Start TLS Emulator
    # A test case imports the library again; its keywords still come from the first import.
    Set Library Search Order    ProcessRunLibrary
    ${directory} =    Evaluate    tempfile.mkdtemp(prefix="atest-tls-")
    Set Suite Variable    ${TLS DIRECTORY}    ${directory}
    ${files} =    Create Test Certificates    ${directory}
    Set Suite Variable    ${TLS}    ${files}
    ${url} =    Private.Start Emulator    ${WORKSPACE_ID}    ${API_KEY}    clock_factor=10
    ...    certfile=${TLS}[cert]    keyfile=${TLS}[key]
    Should Start With    ${url}    https://
    Private.Define Process    quick    new_seconds=0.1 s    run_seconds=0.4 s
    Set Suite Variable    ${PRIVATE URL}    ${url}
    Set Environment Variable    TLS_API_URL    ${url}
    Create Control Room Session    private    api_url=${url}    verify=${TLS}[ca]
    ${bundle} =    Get Environment Variable    REQUESTS_CA_BUNDLE    ${EMPTY}
    ${curl} =    Get Environment Variable    CURL_CA_BUNDLE    ${EMPTY}
    Set Suite Variable    ${SAVED BUNDLES}    ${{[$bundle, $curl]}}

Restore CA Bundle Variables
    FOR    ${name}    ${value}    IN ZIP    ${{["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]}}    ${SAVED BUNDLES}
        IF    $value
            Set Environment Variable    ${name}    ${value}
        ELSE
            Remove Environment Variable    ${name}
        END
    END
    Switch Control Room Session    private

Stop TLS Emulator
    Close All Control Room Sessions
    Private.Stop Emulator
    Remove Directory    ${TLS DIRECTORY}    recursive=True
