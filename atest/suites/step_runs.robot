*** Settings ***
Documentation     Step runs, their console messages and artifacts, and downloads, over real
...               HTTP. Downloads run against a hostile server (atest/resources/HostileFiles.py)
...               whose file names try to leave the download folder and whose signed URLs
...               must never be logged: atest/run.py searches every output file for their
...               signature. Bad input is refused before any request (the private
...               emulator's request log proves it).

Resource          private_emulator.resource
Library           OperatingSystem
Library           Process
Library           HostileFiles
Library           ArtifactLinks
Library           OutputReader
Library           BrowserCheck

Suite Setup       Start Step Runs Suite
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Stop Hostile File Server
...                   AND    Close All Control Room Sessions


*** Variables ***
${ID RULE}    must be an id without '/', '?', '#', '\\' or white space, got
${PYTHON}     ${{sys.executable}}
${CASES}      ${CURDIR}${/}..${/}resources${/}step_runs_cases.robot


*** Test Cases ***
A Parent Log Says Why The Child Failed And Links The Child's Log
    ${dir} =    Run The Child Cases    robot    ${WORK}${/}parent-robot
    The Failure Message Gives The Failed Items And The Console Tail
    The Log Links The Child's Log    ${dir}
    A Click In Chromium Opens The Child's Log    ${dir}

The Links Work From Pabot Too
    ${dir} =    Run The Child Cases    pabot    ${WORK}${/}parent-pabot
    The Failure Message Gives The Failed Items And The Console Tail
    The Log Links The Child's Log    ${dir}
    A Click In Chromium Opens The Child's Log    ${dir}

A Multi-Step Run Shows The Console Tail Of The Step That Failed
    ${id} =    Unique Id    steps
    ${long} =    Evaluate    "x" * 250
    @{console} =    Create List    one    two    \x1b[31mthree\x1b[0m    four    ${long}    six    seven
    Emulator.Define Process    ${id}    new_seconds=0.1 s    run_seconds=0.6 s    outcome=unresolved
    ...    failures=[{"type": "application", "code": "PORTAL_DOWN", "message": "The portal did not answer."}]
    ...    steps=${{["Fetch", {"name": "Enter", "fails": True, "console": $console}, "Report"]}}
    ${run id} =    Start Process Run    ${id}
    ${error} =    Run Keyword And Expect Error    *    Wait Until Process Run Completes    ${run id}
    ${steps} =    List Step Runs    ${run id}
    ${names} =    Evaluate    [s["step"]["name"] for s in $steps]
    Should Be Equal    ${names}    ${{["Fetch", "Enter", "Report"]}}
    Should Be Equal    ${steps}[1][state]    failed
    ${step} =    Get Step Run    ${steps}[1][id]
    Should Be Equal    ${step.error.code}    ROBOT_FAILED
    ${messages} =    List Step Run Console Messages    ${step.id}
    Length Should Be    ${messages}    7
    ${run} =    Get Process Run    ${run id}
    ${emulated} =    Emulator.Get Emulator Runs    ${id}
    ${after} =    Evaluate    robot.utils.secs_to_timestr(round($run.duration, 1))    modules=robot.utils
    ${expected} =    Catenate    SEPARATOR=\n
    ...    Process run ${run id} of process '${id}' ended unresolved; by Control Room's clock it ran ${after}. Failed work items: ${emulated}[0][work_items][0][id] (application exception PORTAL_DOWN: The portal did not answer.).
    ...    Last console lines of step run ${step.id} (Enter):
    ...    ${SPACE * 4}three
    ...    ${SPACE * 4}four
    ...    ${SPACE * 4}${{"x" * 200}}...
    ...    ${SPACE * 4}six
    ...    ${SPACE * 4}seven
    Should Be Equal    ${error}    ${expected}

Waiting For Several Runs Saves The Artifacts Of Each
    ${ok} =    Unique Id    fine
    ${bad} =    Unique Id    broken
    Emulator.Define Process    ${ok}    new_seconds=0.1 s    run_seconds=0.2 s
    Emulator.Define Process    ${bad}    new_seconds=0.1 s    run_seconds=0.3 s    outcome=unresolved
    ${first} =    Start Process Run    ${ok}
    ${second} =    Start Process Run    ${bad}
    ${runs} =    Wait Until Process Runs Complete    ${{[$first, $second]}}    fail_on_unresolved=False
    ...    download_artifacts=True
    FOR    ${run}    IN    @{runs}
        ${steps} =    List Step Runs    ${run.id}
        ${folder} =    Set Variable    ${ROOT}${/}process-runs${/}${run.id}${/}${steps}[0][id]
        ${saved} =    List Directory    ${folder}
        Should Be Equal    ${saved}    ${{["log.html", "output.xml"]}}
    END

Downloads Go To The Default Folders
    ${id} =    Unique Id    defaults
    Emulator.Define Process    ${id}    new_seconds=0.1 s    run_seconds=0.2 s    outcome=unresolved
    ...    outputs=[{"payload": {"n": 1}, "files": [{"name": "receipt.txt", "content": "paid"}]}]
    ${run} =    Start Process Run And Wait    ${id}    fail_on_unresolved=False
    ${steps} =    List Step Runs    ${run.id}
    ${paths} =    Download Step Run Artifacts    ${steps}[0][id]    pattern=log.html
    Should Be Equal    ${paths}    ${{[r"${ROOT}${/}step-runs${/}${steps}[0][id]${/}log.html"]}}
    ${outputs} =    List Process Run Outputs    ${run.id}
    ${paths} =    Download Process Run Output Files    ${run.id}
    ${folder} =    Set Variable    ${ROOT}${/}process-runs${/}${run.id}${/}outputs${/}${outputs}[0][id]
    Should Be Equal    ${paths}    ${{[r"${folder}${/}receipt.txt"]}}
    ${content} =    Get File    ${paths}[0]
    Should Be Equal    ${content}    paid

Traversal Names From The Emulator Stay Inside The Folder
    ${id} =    Unique Id    traversal
    Emulator.Define Process    ${id}    new_seconds=0.1 s    run_seconds=0.2 s    outcome=unresolved
    ...    artifacts=[{"name": "../../evil.txt", "content": "e"}, {"name": "..", "content": "d"}, {"name": "/abs/a.txt", "content": "a"}, {"name": "log.html", "robot": "log.html"}]
    ${run} =    Start Process Run And Wait    ${id}    fail_on_unresolved=False
    ${steps} =    List Step Runs    ${run.id}
    ${artifacts} =    List Step Run Artifacts    ${steps}[0][id]
    ${listed} =    Evaluate    [a["name"] for a in $artifacts]
    Should Be Equal    ${listed}    ${{["../../evil.txt", "..", "/abs/a.txt", "log.html"]}}
    ${dir} =    Set Variable    ${WORK}${/}traversal${/}inside
    ${paths} =    Download Step Run Artifacts    ${steps}[0][id]    ${dir}
    ${names} =    Evaluate    [os.path.basename(p) for p in $paths]    modules=os
    Should Be Equal    ${names}    ${{["evil.txt", "a.txt", "log.html"]}}
    ${around} =    List Directory    ${WORK}${/}traversal
    Should Be Equal    ${around}    ${{["inside"]}}
    ${evil} =    Get File    ${dir}${/}evil.txt
    Should Be Equal    ${evil}    e

Hostile Artifact Names Are Saved Under Safe Base Names Inside The Folder
    ${dir} =    Set Variable    ${WORK}${/}hostile${/}step-run
    ${paths} =    Download Step Run Artifacts    s1    ${dir}    alias=hostile
    ${names} =    Evaluate    [os.path.basename(p) for p in $paths]    modules=os
    Should Be Equal    ${names}
    ...    ${{["log.html", "escaped.txt", "passwd", "win.ini", "report.txt", "LOG (2).html", "output.xml"]}}
    ${saved} =    List Directory    ${dir}
    Lists Should Be Equal    ${saved}    ${names}    ignore_order=True
    ${around} =    List Directory    ${WORK}${/}hostile
    Should Be Equal    ${around}    ${{["step-run"]}}    Something was written outside the folder
    File Should Not Exist    ${WORK}${/}escaped.txt
    ${content} =    Get File    ${dir}${/}escaped.txt
    Should Be Equal    ${content}    content of a1

The Pattern Matches The Safe Names
    ${paths} =    Download Step Run Artifacts    s1    ${WORK}${/}hostile-html    pattern=*.html
    ...    alias=hostile
    ${names} =    Evaluate    [os.path.basename(p) for p in $paths]    modules=os
    Should Be Equal    ${names}    ${{["log.html", "LOG (2).html"]}}

Download URLs Get No Authorization Header
    Clear Hostile Server Requests
    Download Step Run Artifacts    s1    ${WORK}${/}hostile-auth    pattern=log.html    alias=hostile
    ${seen} =    Get Hostile Server Requests
    @{expected} =    Create List
    ...    GET /api/v1/workspaces/atest-workspace/step-runs/s1/artifacts authorization=yes
    ...    GET /api/v1/workspaces/atest-workspace/step-runs/s1/artifacts/a0 authorization=yes
    ...    GET /files/a0 authorization=no
    Should Be Equal    ${seen}    ${expected}

Output Files Are Saved In A Folder Per Output
    ${dir} =    Set Variable    ${WORK}${/}hostile-outputs
    ${paths} =    Download Process Run Output Files    r1    ${dir}    alias=hostile
    ${relative} =    Evaluate
    ...    [pathlib.Path(p).relative_to(d).as_posix() for d, ps in [($dir, $paths)] for p in ps]
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
    Argument 'step_run_id' must be an id without control or invisible characters, got 's\\x001' (contains U+0000).
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
A Click In Chromium Opens The Child's Log
    [Documentation]    Opens the parent's log.html in headless Chromium at the keyword that
    ...    logged the links, then the URL its "log.html" link resolves to: a Robot
    ...    Framework log of the emulator's child robot ("Child Robot"). Skips without Chromium.
    [Arguments]    ${dir}
    ${keyword} =    Keyword With Links    ${dir}${/}output.xml
    ${links} =    Links In Rendered Log    ${dir}${/}log.html    ${keyword}
    Should Be Equal    ${{sorted($links)}}    ${{["log.html", "output.xml"]}}
    ${title} =    Title In Chromium    ${links}[log.html]
    Should Be Equal    ${title}    Child Robot Log    The link does not open the child's log

Unique Id
    [Arguments]    ${prefix}
    RETURN    ${prefix}-${{uuid.uuid4().hex[:8]}}

Run The Child Cases
    [Documentation]    Runs step_runs_cases.robot with ``robot`` or ``pabot`` into ``dir``, at
    ...    TRACE; returns ``dir``. Its one test fails on purpose.
    [Arguments]    ${runner}    ${dir}
    @{robot} =    Create List    ${PYTHON}    -m    robot
    IF    $runner == "pabot"
        @{command} =    Create List    ${PYTHON}    -m    pabot.pabot    --processes    2
        ...    --no-pabotlib    --command    @{robot}    --end-command
    ELSE
        @{command} =    Create List    @{robot}
    END
    # In its own folder: pabot keeps state (.pabotsuitenames) in the current folder.
    Create Directory    ${dir}
    ${result} =    Run Process    @{command}    --outputdir    ${dir}    --loglevel    TRACE:INFO
    ...    --pythonpath    ${CURDIR}${/}..${/}resources    ${CASES}    cwd=${dir}
    ...    stdout=${dir}-console.txt    stderr=STDOUT    timeout=3 minutes    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    1    The child robot: ${result.stdout}
    # It ran at TRACE with download_artifacts=True: no signed URL may be in what it wrote.
    ${leaks} =    Signed Urls In    ${dir}
    ${console} =    Signed Urls In    ${dir}-console.txt
    Should Be Empty    ${{$leaks + $console}}    Signed URLs leaked: ${leaks} ${console}
    Read Output    ${dir}${/}output.xml
    RETURN    ${dir}

The Failure Message Gives The Failed Items And The Console Tail
    [Documentation]    Reads the output.xml that ``Run The Child Cases`` has just loaded.
    ${run id} =    Suite Metadata    run
    ${child} =    Suite Metadata    child
    ${run} =    Get Process Run    ${run id}
    ${emulated} =    Emulator.Get Emulator Runs    ${child}
    ${item} =    Set Variable    ${emulated}[0][work_items][0][id]
    ${steps} =    List Step Runs    ${run id}
    ${after} =    Evaluate    robot.utils.secs_to_timestr(round($run.duration, 1))    modules=robot.utils
    ${step} =    Set Variable    Step '${child}' of process '${child}'
    ${expected} =    Catenate    SEPARATOR=\n
    ...    Process run ${run id} of process '${child}' ended unresolved; by Control Room's clock it ran ${after}. Failed work items: ${item} (business exception INVALID_PDF: No PDF in the mail.).
    ...    Last console lines of step run ${steps}[0][id] (${child}):
    ...    ${SPACE * 4}${step} started: 1 work item(s) to process.
    ...    ${SPACE * 4}Work item ${item} failed with business exception INVALID_PDF: No PDF in the mail.
    ...    ${SPACE * 4}${step} failed (ROBOT_FAILED): 1 of 1 work item(s) failed.
    ${messages} =    Test Messages
    Should Be Equal    ${messages}[Parent Waits For A Failing Child]    ${expected}
    Set Test Variable    ${STEP RUN}    ${steps}[0][id]

The Log Links The Child's Log
    [Documentation]    The log.html in ``dir`` holds one HTML block whose link "log.html",
    ...    resolved against the folder of that log.html, is the child's log.html.
    [Arguments]    ${dir}
    File Should Exist    ${dir}${/}log.html
    ${blocks} =    Html Messages With Links    ${dir}${/}output.xml
    Length Should Be    ${blocks}    1
    ${links} =    Resolve Links    ${blocks}[0]    ${dir}${/}log.html
    Should Be Equal    ${{sorted($links)}}    ${{["log.html", "output.xml"]}}
    File Should Exist    ${links}[log.html]
    ${fresh} =    Download Step Run Artifacts    ${STEP RUN}    ${dir}-fresh    pattern=log.html
    ${linked} =    Get Binary File    ${links}[log.html]
    ${served} =    Get Binary File    ${fresh}[0]
    Should Be True    $linked == $served    The linked file is not the child's log.html
    Should Contain    ${linked.decode()}    window.output    The linked file is not a Robot log

Start Step Runs Suite
    # Downloads and child robots go to results/atest/step_runs, also under pabot: pabot
    # merges every output.xml below its pabot_results folder, a child's ones too.
    ${out} =    Evaluate    pathlib.Path($OUTPUT_DIR)    modules=pathlib
    ${results} =    Set Variable If    $out.parent.name == "pabot_results"    ${out.parent.parent}    ${out}
    Set Suite Variable    ${ROOT}    ${results}
    Set Suite Variable    ${WORK}    ${results}${/}step_runs
    ${hostile} =    Start Hostile File Server
    Create Control Room Session    hostile    api_url=${hostile}
    Start Private Emulator
    # The child robots use the shared emulator of atest/run.py; so does this suite's 'shared'.
    Create Control Room Session    shared

Is Refused Before Sending
    [Arguments]    ${expected}    ${keyword}    @{args}    &{kwargs}
    Switch Control Room Session    private
    Private.Clear Request Log
    Run Keyword And Expect Error    EQUALS:${expected}    ${keyword}    @{args}    &{kwargs}
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}    ${sent} request(s) sent for bad input.
    [Teardown]    Switch Control Room Session    shared
