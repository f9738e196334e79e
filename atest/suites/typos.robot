*** Settings ***
Documentation     A misspelt named argument (``process_run=`` for ``process_run_id=``) fails
...               with a message naming it and the argument meant, before anything is
...               sent; values that hold ``=`` are still sent. The cases are in
...               atest/resources/typo_cases.robot, run in a child robot, normally and with
...               ``robot --dryrun``: their typos would fail this suite's own dry run.

Resource          private_emulator.resource
Library           OperatingSystem
Library           Process

Suite Setup       Start Typos Suite
Suite Teardown    Private.Stop Emulator


*** Variables ***
${PYTHON}    ${{sys.executable}}
${CASES}     ${CURDIR}/../resources/typo_cases.robot
${SECRET}    ${None}
${ESCAPE}    To pass a value containing '=' positionally, escape it as


*** Test Cases ***
Misspelt Named Arguments Fail Before Anything Is Sent
    ${output} =    Set Variable    ${OUTPUT DIR}/typo_cases.xml
    ${result} =    Run Child    --output    ${output}    --log    NONE    --loglevel    TRACE
    Should Contain    ${result.stdout}    10 tests, 10 passed, 0 failed
    Should Be Equal As Integers    ${result.rc}    0    ${result.stdout}
    ${xml} =    Get File    ${output}
    Should Not Contain    ${xml}    ${SECRET}    The misspelt key is in output.xml.    values=False
    Should Not Contain    ${result.stdout}    ${SECRET}    The misspelt key is on the console.    values=False

A Dry Run Fails On Misspelt Named Arguments
    [Documentation]    Robot Framework 7.1 and newer let the library's listener fail a
    ...    keyword at its end, also in a dry run; 6.1 and 7.0 do not.
    Skip If    not $ROBOT_71    Robot Framework ${ROBOT VERSION}: a listener cannot fail a keyword.
    ${output} =    Set Variable    ${OUTPUT DIR}/typo_cases_dryrun.xml
    ${result} =    Run Child    --dryrun    --output    ${output}    --log    NONE
    Should Contain    ${result.stdout}    10 tests, 4 passed, 6 failed
    ${outcomes} =    Evaluate
    ...    {t.name: t.message for t in robot.api.ExecutionResult($output).suite.all_tests if t.failed}
    &{expected} =    Create Dictionary
    ...    List Work Items With A Misspelt Run Id=List Work Items got an unknown argument 'process_run' (did you mean 'process_run_id'?). ${ESCAPE} 'process_run\\=...'.
    ...    Start With A Misspelt Payload=Start Process Run got an unknown argument 'paylod' (did you mean 'payload'?). ${ESCAPE} 'paylod\\=...'.
    ...    Start With A Misspelt Input Queue=Start Process Run got an unknown argument 'use_input_queu' (did you mean 'use_input_queue'?). ${ESCAPE} 'use_input_queu\\=...'.
    ...    Start And Wait With A Misspelt Expected Duration=Start Process Run And Wait got an unknown argument 'expected_duraton' (did you mean 'expected_duration'?). ${ESCAPE} 'expected_duraton\\=...'.
    ...    Misspelt Api Key Is Refused And Stays Secret=Create Control Room Session got an unknown argument 'api_ky' (did you mean 'api_key'?). ${ESCAPE} 'api_ky\\=...'.
    ...    Wait With A Misspelt Fail On Unresolved=Wait Until Process Run Completes got an unknown argument 'fail_on_unresolve' (did you mean 'fail_on_unresolved'?). ${ESCAPE} 'fail_on_unresolve\\=...'.
    Dictionaries Should Be Equal    ${outcomes}    ${expected}


*** Keywords ***
Start Typos Suite
    Start Private Emulator
    Set Environment Variable    TYPOS_API_URL    ${PRIVATE URL}
    Set Environment Variable    RC_API_KEY    ${API_KEY}
    # Not in Run Process's env: Run Process logs the whole environment.
    ${secret} =    Set Variable    typo-${{secrets.token_hex(8)}}
    Set Environment Variable    TYPO_SECRET    ${secret}
    Set Suite Variable    ${SECRET}
    ${version} =    Evaluate    robot.version.VERSION
    Set Suite Variable    ${ROBOT VERSION}    ${version}
    Set Suite Variable    ${ROBOT 71}
    ...    ${{tuple(int(p) for p in re.findall(r"\d+", $version)[:2]) >= (7, 1)}}

Run Child
    [Arguments]    @{options}
    ${result} =    Run Process    ${PYTHON}    -m    robot    @{options}    --report    NONE
    ...    --console    verbose    ${CASES}    stderr=STDOUT    timeout=2 minutes
    ...    on_timeout=kill
    Log    ${result.stdout}
    RETURN    ${result}
