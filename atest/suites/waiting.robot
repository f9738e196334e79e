*** Settings ***
Documentation    Waiting for runs: outcomes, timeouts, many runs, Robot timeouts.

Resource         common.resource
Resource         private_emulator.resource
Library          Process
Library          String
Library          OutputReader.py


*** Variables ***
${PYTHON}           ${{sys.executable}}
# A variable: `robot --dryrun` would convert a literal and fail before Run Keyword And Expect Error.
${NEGATIVE TIME}    -5 s


*** Test Cases ***
Wait Until Process Run Completes Returns The Final Run
    ${id} =    Start Process Run    quick
    ${run} =    Wait Until Process Run Completes    ${id}
    Should Be Equal    ${run.state}    completed
    Should Be Equal    ${run.id}    ${id}
    Should Not Be Equal    ${run.ended_at}    ${None}

A Run That Has Already Ended Returns At Once
    ${id} =    Start Process Run    quick
    Wait Until Process Run Completes    ${id}
    # Counted before and after: the request log is shared with pabot's other suites.
    ${before} =    Emulator.Get Request Count    GET    /workspaces/${WORKSPACE_ID}/process-runs/${id}
    Wait Until Process Run Completes    ${id}
    ${after} =    Emulator.Get Request Count    GET    /workspaces/${WORKSPACE_ID}/process-runs/${id}
    Should Be Equal    ${{$after - $before}}    ${1}

A Wait Reads Its Process's History Through The List It Polls Anyway
    # A process of its own: pabot's other processes share this emulator and its request log.
    Emulator.Define Process    waiting-history    new_seconds=0.1 s    run_seconds=0.4 s
    FOR    ${_}    IN RANGE    3
        Start Process Run And Wait    waiting-history
    END
    ${mark} =    Last Request Number
    Close All Control Room Sessions    # a new session has no history yet
    ${run} =    Start Process Run And Wait    waiting-history
    Should Be Equal    ${run.state}    completed
    ${reads} =    Reads Of    waiting-history    ${run.id}    ${mark}
    Should Be Equal    ${reads}[0][path]    /workspaces/${WORKSPACE_ID}/process-runs
    ${lists} =    Lists Of    waiting-history    ${mark}
    Should Be Equal    ${lists}    ${1}
    ${id} =    Start Process Run    waiting-history
    Wait Until Process Run Completes    ${id}    expected_duration=0.5 s
    ${after} =    Lists Of    waiting-history    ${mark}
    Should Be Equal    ${after}    ${1}    The history is known in this session: no more lists

An Unresolved Run Fails The Wait With Its Failed Work Items
    ${id} =    Start Process Run    failing    payloads=${{[{"order": 42}, {"order": 43}]}}
    ${error} =    Run Keyword And Expect Error    *    Wait Until Process Run Completes    ${id}
    Should Match Regexp    ${error}
    ...    ^Process run ${id} of process 'Failing' ended unresolved; by Control Room's clock it ran \\d+ milliseconds\\. Failed work items: \\S+ \\(business exception INVALID_ORDER: Order 42 has no customer\\.\\); \\S+ \\(application exception TIMEOUT: The portal did not answer\\.\\)\\.\\nLast console lines of step run \\S+ \\(Failing\\):\\n {4}Step 'Failing' of process 'Failing' started: 2 work item\\(s\\) to process\\.\\n {4}Work item \\S+ failed with business exception INVALID_ORDER: Order 42 has no customer\\.\\n {4}Work item \\S+ failed with application exception TIMEOUT: The portal did not answer\\.\\n {4}Step 'Failing' of process 'Failing' failed \\(ROBOT_FAILED\\): 2 of 2 work item\\(s\\) failed\\.$

Terminal Escapes From Control Room Never Reach The Failure Message
    [Documentation]    A process name, a work item exception's code and message, a step
    ...    name and a console line hold OSC (window title, hyperlink), CSI (screen clear,
    ...    DSR query) and C1 sequences: the message keeps only their printable text.
    ${process} =    Set Variable    escapes-${{uuid.uuid4().hex[:8]}}
    Emulator.Define Process    ${process}    name=${{"\x1b]0;owned\x07Invoices\x1b[2J"}}
    ...    new_seconds=0.1 s    run_seconds=0.3 s    outcome=unresolved
    ...    failures=${{[{"type": "business", "code": "NO\x9b2J_PDF", "message": "No\x1b]8;;http://evil\x1b\\ PDF\x1b[6n\nForged: line"}]}}
    ...    steps=${{[{"name": "Read\x9d0;title\x9c mail\x1b[31m", "console": ["\x1b[2J\x1b[HRead \x1bc1 mail", "\x9b6n"]}]}}
    ${id} =    Start Process Run    ${process}
    ${error} =    Run Keyword And Expect Error    *    Wait Until Process Run Completes    ${id}
    Should Match Regexp    ${error}
    ...    ^Process run ${id} of process 'Invoices' ended unresolved; by Control Room's clock it ran \\d+ milliseconds\\. Failed work items: \\S+ \\(business exception NO_PDF: No PDFForged: line\\)\\.\\nLast console lines of step run \\S+ \\(Read mail\\):\\n {4}Read 1 mail$

An Unresolved Run Is Returned When Fail On Unresolved Is False
    ${id} =    Start Process Run    failing
    ${run} =    Wait Until Process Run Completes    ${id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved

Message Replaces The Failure Message
    ${id} =    Start Process Run    failing
    Run Keyword And Expect Error    The nightly invoices failed.
    ...    Wait Until Process Run Completes    ${id}    message=The nightly invoices failed.

Timeout Fails By Default Naming The Run, The Time And The Last State
    ${id} =    Start Process Run    forever
    Run Keyword And Expect Error
    ...    Process run ${id} did not complete in 1 second; its last state was in_progress.
    ...    Wait Until Process Run Completes    ${id}    timeout=1 s    poll_interval=0.2 s
    [Teardown]    Stop Process Run    ${id}

Timeout With Continue Warns And Returns The Last Run
    ${id} =    Start Process Run    forever
    ${run} =    Wait Until Process Run Completes    ${id}    timeout=0.8 s    on_timeout=continue
    Should Be Equal    ${run.state}    in_progress
    Should Be Equal    ${run.id}    ${id}
    [Teardown]    Stop Process Run    ${id}

Timeout With Stop Stops The Run And Fails
    ${id} =    Start Process Run    forever
    Run Keyword And Expect Error
    ...    Process run ${id} did not complete in 1 second; its last state was in_progress. Asked Control Room to stop it: the stop was accepted.
    ...    Wait Until Process Run Completes    ${id}    timeout=1 s    on_timeout=stop
    ${run} =    Wait Until Process Run Completes    ${id}    fail_on_unresolved=False
    Should Be Equal    ${run.state}    unresolved

Wait Until Process Runs Complete Returns Runs In The Given Order
    ${a} =    Start Process Run    slow
    ${b} =    Start Process Run    quick
    ${c} =    Start Process Run    quick
    ${runs} =    Wait Until Process Runs Complete    ${{[$c, $a, $b]}}
    Should Be Equal    ${runs[0].id}    ${c}
    Should Be Equal    ${runs[1].id}    ${a}
    Should Be Equal    ${runs[2].id}    ${b}
    FOR    ${run}    IN    @{runs}
        Should Be Equal    ${run.state}    completed
    END

Waiting For Many Runs Of One Process Costs One Request A Round
    [Documentation]    On a private emulator: every request it logs is this test's.
    [Setup]    Start Private Emulator
    ${ids} =    Create List
    FOR    ${_}    IN RANGE    10
        ${id} =    Start Process Run    quick
        Append To List    ${ids}    ${id}
    END
    Private.Clear Request Log
    Wait Until Process Runs Complete    ${ids}
    ${single gets} =    Private.Get Request Count    GET    /workspaces/${WORKSPACE_ID}/process-runs/[^/?]+$
    ${lists} =    Private.Get Request Count    GET    /workspaces/${WORKSPACE_ID}/process-runs$
    Should Be Equal    ${single gets}    ${0}
    Should Be True    0 < ${lists} < 20
    [Teardown]    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions

The Failure Of Many Runs Lists Every Failed Run
    ${ok} =    Start Process Run    quick
    ${bad1} =    Start Process Run    failing
    ${bad2} =    Start Process Run    failing
    ${stuck} =    Start Process Run    forever
    ${error} =    Run Keyword And Expect Error    *
    ...    Wait Until Process Runs Complete    ${{[$ok, $bad1, $bad2, $stuck]}}    timeout=2 s
    ${all lines} =    Split To Lines    ${error}
    Should Be Equal    ${all lines}[0]    3 of 4 process runs did not complete:
    # An unresolved run's console tail follows its line, indented: keep the runs' own lines.
    ${lines} =    Evaluate    [l for l in $all_lines if not l.startswith((" ", "Last console lines"))]
    ${tails} =    Evaluate    sum(l.startswith("Last console lines of step run ") for l in $all_lines)
    Should Be Equal    ${tails}    ${2}
    Should Match    ${lines}[1]    - Process run ${bad1} of process 'Failing' ended unresolved; by Control Room's clock it ran *
    Should Match    ${lines}[2]    - Process run ${bad2} of process 'Failing' ended unresolved; by Control Room's clock it ran *
    Should Be Equal    ${lines}[3]
    ...    - Process run ${stuck} did not complete in 2 seconds; its last state was in_progress.
    [Teardown]    Stop Process Run    ${stuck}

Start Process Run And Wait
    ${run} =    Start Process Run And Wait    quick    payload={"order": 1}    timeout=10 s
    Should Be Equal    ${run.state}    completed
    Should Be Equal    ${run.process.id}    quick

Start Process Run And Wait Checks Its Times Before Starting
    [Tags]    python-3.11-messages
    # A process no other suite starts: the request log is shared with them.
    ${process} =    Set Variable    never-started-${{uuid.uuid4().hex[:8]}}
    Run Keyword And Expect Error
    ...    ValueError: Argument 'timeout' got value '-5 s' that cannot be converted to Time: a time cannot be negative.
    ...    Start Process Run And Wait    ${process}    timeout=${NEGATIVE TIME}
    ${starts} =    Emulator.Get Request Count    POST    /workspaces/${WORKSPACE_ID}/processes/${process}/process-runs
    Should Be Equal    ${starts}    ${0}

Process Run State Should Be Names Both States
    ${id} =    Start Process Run    forever
    Wait Until Keyword Succeeds    5 s    0.1 s    Process Run State Should Be    ${id}    in_progress
    Run Keyword And Expect Error    Process run ${id} is in_progress, not completed.
    ...    Process Run State Should Be    ${id}    completed
    Run Keyword And Expect Error    Still running, as expected.
    ...    Process Run State Should Be    ${id}    completed    message=Still running, as expected.
    [Teardown]    Stop Process Run    ${id}

Set Process Run Timeout And Poll Interval Return The Old Values
    ${old} =    Set Process Run Timeout    2 minutes
    Should Be Equal    ${old}    30 seconds
    ${old} =    Set Process Run Timeout    ${old}
    Should Be Equal    ${old}    2 minutes
    ${old} =    Set Process Run Poll Interval    1 s
    Should Be Equal    ${old}    500 milliseconds
    Set Process Run Poll Interval    ${old}

Robot Timeouts Interrupt A Wait
    [Documentation]    Robot cannot catch a timeout inside the test that has it, so a child
    ...    robot runs the cases in robot_timeouts.robot: a wait of one hour under a test
    ...    [Timeout] and a keyword [Timeout] of one second. Had the waits not been
    ...    interrupted, the child would be killed after a minute and this test would fail.
    ${result} =    Run Process    ${PYTHON}    -m    robot    --output    ${OUTPUT DIR}/timeouts.xml
    ...    --log    NONE    --report    NONE    --loglevel    TRACE
    ...    --pythonpath    ${CURDIR}/../resources
    ...    ${CURDIR}/../resources/robot_timeouts.robot    timeout=1 minute    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    2    ${result.stdout}
    Read Output    ${OUTPUT DIR}/timeouts.xml
    ${messages} =    Test Messages
    Should Be Equal    ${messages}[Test Timeout Interrupts A Wait]    Test timeout 1 second exceeded.
    Should Be Equal    ${messages}[Keyword Timeout Interrupts A Wait]
    ...    Keyword timeout 1 second exceeded.


*** Keywords ***
Last Request Number
    [Documentation]    The ``seq`` of the shared emulator's latest logged request. The suites
    ...    share its log: they count what came after it, and never clear it.
    ${requests} =    Emulator.Get Requests
    RETURN    ${{$requests[-1]['seq'] if $requests else 0}}

Reads Of
    [Documentation]    The shared emulator's logged GETs after request number ``since`` that
    ...    read ``run_id``: by id, or through the listing of ``process``, in order.
    [Arguments]    ${process}    ${run_id}    ${since}
    ${requests} =    Emulator.Get Requests    GET
    ${reads} =    Evaluate
    ...    (lambda rs, p, i, n: [r for r in rs if r['seq'] > n and (r['query'].get('process_id') == p or r['path'].endswith('/' + i))])($requests, $process, $run_id, $since)
    RETURN    ${reads}

Lists Of
    [Documentation]    How many listings of the runs of ``process`` the shared emulator logged
    ...    after request number ``since``.
    [Arguments]    ${process}    ${since}
    ${requests} =    Emulator.Get Requests    GET    /process-runs$
    ${count} =    Evaluate
    ...    (lambda rs, p, n: sum(1 for r in rs if r['seq'] > n and r['query'].get('process_id') == p))($requests, $process, $since)
    RETURN    ${count}
