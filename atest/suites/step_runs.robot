*** Settings ***
Documentation       Step runs, their console messages and artifacts, and downloads, over real
...                 HTTP. Downloads run against a hostile server (atest/resources/HostileFiles.py)
...                 whose file names try to leave the download folder and whose signed URLs
...                 must never be logged: atest/run.py searches every output file for their
...                 signature. Bad input is refused before any request (the private
...                 emulator's request log proves it).
Resource            private_emulator.resource
Library             OperatingSystem
Library             HostileFiles
Suite Setup         Start Step Runs Suite
Suite Teardown      Run Keywords    Private.Stop Emulator    AND    Stop Hostile File Server
...                     AND    Close All Control Room Sessions


*** Variables ***
${ID RULE}      must be an id without '/', '?', '#', '\\' or white space, got


*** Test Cases ***
Hostile Artifact Names Are Saved Under Safe Base Names Inside The Folder
    ${dir} =    Set Variable    ${OUTPUT DIR}${/}hostile${/}step-run
    ${paths} =    Download Step Run Artifacts    s1    ${dir}    alias=hostile
    ${names} =    Evaluate    [os.path.basename(p) for p in $paths]    modules=os
    Should Be Equal    ${names}
    ...    ${{["log.html", "escaped.txt", "passwd", "win.ini", "report.txt", "LOG (2).html", "output.xml"]}}
    ${saved} =    List Directory    ${dir}
    Lists Should Be Equal    ${saved}    ${names}    ignore_order=True
    ${around} =    List Directory    ${OUTPUT DIR}${/}hostile
    Should Be Equal    ${around}    ${{["step-run"]}}    Something was written outside the folder
    File Should Not Exist    ${OUTPUT DIR}${/}escaped.txt
    ${content} =    Get File    ${dir}${/}escaped.txt
    Should Be Equal    ${content}    content of a1

The Pattern Matches The Safe Names
    ${paths} =    Download Step Run Artifacts    s1    ${OUTPUT DIR}${/}hostile-html    pattern=*.html
    ...    alias=hostile
    ${names} =    Evaluate    [os.path.basename(p) for p in $paths]    modules=os
    Should Be Equal    ${names}    ${{["log.html", "LOG (2).html"]}}

Download URLs Get No Authorization Header
    Clear Hostile Server Requests
    Download Step Run Artifacts    s1    ${OUTPUT DIR}${/}hostile-auth    pattern=log.html    alias=hostile
    ${seen} =    Get Hostile Server Requests
    VAR    @{expected}
    ...    GET /api/v1/workspaces/atest-workspace/step-runs/s1/artifacts authorization=yes
    ...    GET /api/v1/workspaces/atest-workspace/step-runs/s1/artifacts/a0 authorization=yes
    ...    GET /files/a0 authorization=no
    Should Be Equal    ${seen}    ${expected}

Output Files Are Saved In A Folder Per Output
    ${dir} =    Set Variable    ${OUTPUT DIR}${/}hostile-outputs
    ${paths} =    Download Process Run Output Files    r1    ${dir}    alias=hostile
    ${relative} =    Evaluate
    ...    [pathlib.Path(p).relative_to(d).as_posix() for d in [$dir] for p in $paths]
    ...    modules=pathlib
    Should Be Equal    ${relative}    ${{["out-1/report.pdf", "out-1/report (2).pdf", "out-2/data.csv"]}}
    ${content} =    Get File    ${dir}${/}out-1${/}report (2).pdf
    Should Be Equal    ${content}    content of f2

Bad Input Is Refused Before Sending
    [Template]    Is Refused Before Sending
    Argument 'process_run_id' must be a non-empty id, got ''.    List Step Runs    ${EMPTY}
    Argument 'process_run_id' ${ID RULE} 'a/b' (contains '/').    List Step Runs    a/b
    Argument 'limit' must be a positive integer, got 0.    List Step Runs    r1    limit=${0}
    Argument 'step_run_id' ${ID RULE} 'a?b' (contains '?').    Get Step Run    a?b
    Argument 'step_run_id' must be an id without control characters, got 's\\x001'.
    ...    Get Step Run    s\x001
    Argument 'step_run_id' ${ID RULE} '..' (contains '..').    List Step Run Console Messages    ..
    Argument 'limit' must be a positive integer, got -1.    List Step Run Artifacts    s1    limit=${-1}
    Argument 'step_run_id' ${ID RULE} 'a#b' (contains '#').    Download Step Run Artifacts    a#b
    Argument 'pattern' must be a non-empty string, got ''.
    ...    Download Step Run Artifacts    s1    pattern=${EMPTY}
    Argument 'directory' must be the path of a folder, got ''.
    ...    Download Step Run Artifacts    s1    directory=${EMPTY}
    Argument 'directory' must be a folder, but '${CURDIR}${/}step_runs.robot' is a file.
    ...    Download Process Run Output Files    r1    directory=${CURDIR}${/}step_runs.robot
    Argument 'process_run_id' ${ID RULE} 'has space' (contains ' ').
    ...    Download Process Run Output Files    has space
    Argument 'download_artifacts' must be True or False, got 'maybe'.
    ...    Wait Until Process Run Completes    r1    download_artifacts=maybe
    Argument 'download_artifacts' must be True or False, got 'maybe'.
    ...    Start Process Run And Wait    quick    download_artifacts=maybe


*** Keywords ***
Start Step Runs Suite
    ${hostile} =    Start Hostile File Server
    Create Control Room Session    hostile    api_url=${hostile}
    Start Private Emulator

Is Refused Before Sending
    [Arguments]    ${expected}    ${keyword}    @{args}    &{kwargs}
    Private.Clear Request Log
    Run Keyword And Expect Error    EQUALS:${expected}    ${keyword}    @{args}    &{kwargs}
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}    ${sent} request(s) sent for bad input.
