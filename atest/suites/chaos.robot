*** Settings ***
Documentation     Chaos acceptance test: 200 runs started and waited for while a private
...               emulator injects about 20 % faults of every kind (429, 5xx, latency,
...               dropped connections, lost answers), drawn from a seeded generator.
...
...               Each start sends the payload ``{"chaos": <marker>}``, so every run the
...               emulator created names the start attempt that created it, and
...               ChaosLedger.py can count precisely (see its documentation): a run is
...               *duplicated* when one attempt created two; *lost* when the library
...               reported a run the emulator does not have, or the emulator has a run that
...               the library neither reported nor announced with "may have been started
...               anyway" after a lost answer. Both must be 0, every failed start must say
...               clearly why, and every wait must return the right final state or fail
...               with the clear message of an unresolved run.
...
...               The waits are mixed: per batch of 20 runs, 14 are waited for together
...               (`Wait Until Process Runs Complete`), 3 one by one (`Wait Until Process
...               Run Completes`, failing on unresolved) and 3 with `Start Process Run And
...               Wait`. Every fifth run belongs to a process that ends unresolved.

Resource          private_emulator.resource
Library           ChaosLedger.py

Suite Setup       Start Chaos
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions


*** Variables ***
${RUNS TO START}    200
${SEED}             20240301


*** Test Cases ***
Two Hundred Runs Survive About Twenty Percent Faults Of Every Kind
    ${batch} =    Set Variable    ${0}
    ${started} =    Set Variable    ${0}
    WHILE    ${started} < ${RUNS TO START}    limit=20
        Run A Batch Of Twenty    ${batch}
        ${batch} =    Evaluate    ${batch} + 1
        ${started} =    Runs Started
    END
    Private.Clear Faults
    ${runs} =    Private.Get Emulator Runs
    ${requests} =    Private.Get Requests
    ${report} =    Account For Runs    ${runs}    ${requests}    ${RULES}
    ${share} =    Evaluate    round(100 * $report["requests with a fault"] / $report["requests"], 1)
    Log    Start attempts: ${report}[attempts]; runs started (reported by the library): ${report}[runs started]; runs in the emulator: ${report}[runs in the emulator]
    Log    Starts failed: ${report}[starts failed], of which left a run (lost answer, announced in the error): ${report}[lost answers accounted for]
    Log    Runs lost: ${report}[runs lost]; runs duplicated: ${report}[runs duplicated]; unclear start errors: ${report}[unclear start errors]
    Log    Waits right: ${report}[waits right]; waits failed clearly (unresolved): ${report}[waits failed clearly]; waits wrong: ${report}[waits wrong]
    Log    Requests: ${report}[requests], with a fault: ${report}[requests with a fault] (${share} %); faults injected by kind: ${report}[faults by kind]
    Should Be Empty    ${report}[problems]
    Should Be Equal    ${report}[runs lost]    ${0}
    Should Be Equal    ${report}[runs duplicated]    ${0}
    Should Be True    ${report}[runs started] >= ${RUNS TO START}
    Should Be True    ${report}[attempts] == ${report}[runs started] + ${report}[starts failed]
    Should Be True    ${report}[waits right] + ${report}[waits failed clearly] == ${report}[runs started]
    Should Be True    15 <= ${share} <= 25    ${share} % of the requests got a fault.
    FOR    ${kind}    IN    @{RULES.values()}
        Should Be True    $report["faults by kind"].get($kind, 0) > 0    No fault of kind ${kind}.
    END


*** Keywords ***
Start Chaos
    Start Private Emulator    clock_factor=50    seed=${SEED}    max_retries=3
    ...    request_timeout=5 s
    Private.Define Process    chaos-ok    new_seconds=0.5 s    run_seconds=1 s
    Private.Define Process    chaos-bad    new_seconds=0.5 s    run_seconds=1 s    outcome=unresolved
    ...    failures=[{"type": "business", "code": "CHAOS", "message": "Every fifth run fails."}]
    # The first rule that fires applies; each draws from its own seeded generator.
    ${rules} =    Create Dictionary
    FOR    ${kind}    ${rate}    ${fault}    IN
    ...    429 with Retry-After    0.015    ${{{"status": 429, "retry_after": "1 s"}}}
    ...    lost answer (dropped)    0.02    ${{{"lost_answer": True, "drop": True}}}
    ...    429    0.025    ${{{"status": 429}}}
    ...    500    0.02    ${{{"status": 500}}}
    ...    502    0.02    ${{{"status": 502}}}
    ...    503    0.03    ${{{"status": 503}}}
    ...    504    0.02    ${{{"status": 504}}}
    ...    latency 0.05 s    0.03    ${{{"latency": "0.05 s"}}}
    ...    dropped connection    0.025    ${{{"drop": True}}}
    ...    lost answer (502)    0.025    ${{{"lost_answer": True}}}
        ${id} =    Private.Inject Fault    rate=${rate}    &{fault}
        Set To Dictionary    ${rules}    ${id}    ${kind}
    END
    Set Suite Variable    ${RULES}    ${rules}

Process For
    [Arguments]    ${marker}
    IF    ${marker} % 5 == 4    RETURN    chaos-bad
    RETURN    chaos-ok

Start One
    [Arguments]    ${marker}
    ${process} =    Process For    ${marker}
    ${status}    ${value} =    Run Keyword And Ignore Error
    ...    Start Process Run    ${process}    payload={"chaos": ${marker}}
    ${id} =    Record Start    ${marker}    ${process}    ${status}    ${value}
    RETURN    ${id}

Run A Batch Of Twenty
    [Arguments]    ${batch}
    ${first} =    Evaluate    ${batch} * 20
    # 14 started, then waited for together.
    ${ids} =    Create List
    ${markers} =    Create List
    FOR    ${marker}    IN RANGE    ${first}    ${first} + 14
        ${id} =    Start One    ${marker}
        IF    $id is not None
            Append To List    ${ids}    ${id}
            Append To List    ${markers}    ${marker}
        END
    END
    ${status}    ${value} =    Run Keyword And Ignore Error
    ...    Wait Until Process Runs Complete    ${ids}    fail_on_unresolved=False    timeout=60 s
    FOR    ${index}    ${marker}    IN ENUMERATE    @{markers}
        ${result} =    Set Variable If    $status == "PASS"    ${value}[${index}]    ${value}
        Record Wait    ${marker}    Wait Until Process Runs Complete    ${status}    ${result}
    END
    # 3 started, then waited for one by one, failing on unresolved.
    FOR    ${marker}    IN RANGE    ${first} + 14    ${first} + 17
        ${id} =    Start One    ${marker}
        IF    $id is not None
            ${status}    ${value} =    Run Keyword And Ignore Error
            ...    Wait Until Process Run Completes    ${id}    timeout=60 s
            Record Wait    ${marker}    Wait Until Process Run Completes    ${status}    ${value}
        END
    END
    # 3 started and waited for by one keyword.
    FOR    ${marker}    IN RANGE    ${first} + 17    ${first} + 20
        ${process} =    Process For    ${marker}
        ${status}    ${value} =    Run Keyword And Ignore Error
        ...    Start Process Run And Wait    ${process}    payload={"chaos": ${marker}}
        ...    fail_on_unresolved=False    timeout=60 s
        Record Start And Wait    ${marker}    ${process}    ${status}    ${value}
    END
