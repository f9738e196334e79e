*** Settings ***
Documentation     List Processes and Get Process Id over HTTP against a private emulator
...               (its request log counts only this suite's requests), configured by
...               atest/resources/processes.json (page size 5, seven processes; the suite adds four: three pages).

Resource          private_emulator.resource
Library           OperatingSystem

Suite Setup       Start Processes Suite
Suite Teardown    Run Keywords    Private.Stop Emulator    AND    Close All Control Room Sessions
Test Setup        Private.Clear Request Log


*** Test Cases ***
List Processes Follows Every Page
    ${processes} =    List Processes
    ${listed} =    Evaluate    [p["name"] for p in $processes]
    Should Be Equal    ${listed}    ${NAMES}
    Should Be Equal    ${processes}[0][id]    quick
    Should Be Equal    ${processes[0].name}    Quick
    ${pages} =    Private.Get Request Count    GET    /processes$
    Should Be Equal    ${pages}    ${3}

List Processes Stops At The Limit
    ${processes} =    List Processes    limit=2
    Length Should Be    ${processes}    2
    ${requests} =    Private.Get Requests    GET    /processes$
    Length Should Be    ${requests}    1
    Should Be Equal    ${requests}[0][query]    ${{{"limit": "2"}}}

Get Process Id Matches The Exact Name
    ${id} =    Get Process Id    Empty queue
    Should Be Equal    ${id}    empty-queue

Get Process Id Lists Once Per Session And Again After A Miss
    Create Control Room Session    counted    api_url=${PRIVATE URL}
    Private.Clear Request Log
    ${id} =    Get Process Id    Quick    alias=counted
    Should Be Equal    ${id}    quick
    ${first} =    Private.Get Request Count    GET    /processes$
    Should Be Equal    ${first}    ${3}
    ${id} =    Get Process Id    Slow    alias=counted
    Should Be Equal    ${id}    slow
    ${cached} =    Private.Get Request Count    GET    /processes$
    Should Be Equal    ${cached}    ${3}    The second name came from the kept listing.
    Private.Define Process    brand-new    name=Brand new
    ${id} =    Get Process Id    Brand new    alias=counted
    Should Be Equal    ${id}    brand-new
    ${again} =    Private.Get Request Count    GET    /processes$
    Should Be Equal    ${again}    ${6}    A miss reads the listing again.
    [Teardown]    Switch Control Room Session    private

Get Process Id Is Case-Sensitive And Names Close Candidates
    [Documentation]    Runs after the test that defines 'Brand new': twelve processes.
    Run Keyword And Expect Error
    ...    EQUALS:No process is named 'quick'. Processes with similar names: 'Quick' (id 'quick').
    ...    Get Process Id    quick
    Run Keyword And Expect Error
    ...    EQUALS:No process is named 'e'. Processes with similar names: 'Brand new' (id 'brand-new'), 'Empty queue' (id 'empty-queue'), 'Extra four' (id 'extra-4'), 'Extra one' (id 'extra-1'), 'Extra three' (id 'extra-3') and 4 more.
    ...    Get Process Id    e
    Run Keyword And Expect Error
    ...    EQUALS:No process is named 'Nightly invoices'. None of the workspace's 12 processes has a similar name.
    ...    Get Process Id    Nightly invoices

Get Process Id Names The Ids When Several Processes Have The Name
    Private.Define Process    twin-1    name=Twin
    Private.Define Process    twin-2    name=Twin
    Run Keyword And Expect Error
    ...    EQUALS:Several processes are named 'Twin': their ids are 'twin-1', 'twin-2'. Give the process id instead of the name.
    ...    Get Process Id    Twin

Bad Input Is Refused Before Any Request
    [Template]    Is Refused Before Sending
    Argument 'name' must be a non-empty string, got ''.    Get Process Id    ${EMPTY}
    Argument 'name' must be a non-empty string, got ' '.    Get Process Id    ${SPACE}
    Argument 'limit' must be a positive integer, got -1.    List Processes    limit=${-1}
    GLOB:ValueError: Argument 'limit' got value 'many' that cannot be converted to integer*
    ...    List Processes    limit=many


*** Keywords ***
Start Processes Suite
    ${config} =    Normalize Path    ${CURDIR}/../resources/processes.json
    ${url} =    Private.Start Emulator    ${WORKSPACE_ID}    ${API_KEY}    config=${config}
    Set Suite Variable    ${PRIVATE URL}    ${url}
    Create Control Room Session    private    api_url=${url}
    ${defined} =    Create List    Quick    Slow    Forever    Failing    Queue    Empty queue    Pager
    Private.Define Process    extra-1    name=Extra one
    Private.Define Process    extra-2    name=Extra two
    Private.Define Process    extra-3    name=Extra three
    Private.Define Process    extra-4    name=Extra four
    Append To List    ${defined}    Extra one    Extra two    Extra three    Extra four
    Set Suite Variable    ${NAMES}    ${defined}

Is Refused Before Sending
    [Arguments]    ${expected}    ${keyword}    @{args}    &{kwargs}
    Private.Clear Request Log
    ${expected} =    Set Variable If    $expected.startswith("GLOB:")    ${expected}    EQUALS:${expected}
    Run Keyword And Expect Error    ${expected}    ${keyword}    @{args}    &{kwargs}
    ${sent} =    Private.Get Request Count
    Should Be Equal    ${sent}    ${0}    ${sent} request(s) sent for bad input.
