*** Settings ***
Documentation    Run by bad_input.robot in a child robot: ``max_retries=three`` in the
...              settings table must not crash Robot Framework (it did, rc 255, no log).
...              The import succeeds and the first keyword that needs a session fails.

Library          ProcessRunLibrary    api_url=${URL}    workspace_id=${WS}    max_retries=three
...                  timeout=nan


*** Variables ***
${URL}    http://127.0.0.1:9/api/v1
${WS}     atest-workspace


*** Test Cases ***
The First Keyword Fails With The Message
    Run Keyword And Expect Error
    ...    EQUALS:Argument 'max_retries' must be a whole number of 0 or more, got 'three'.
    ...    Get Process Run    r1
    Run Keyword And Expect Error
    ...    EQUALS:ProcessRunLibrary was imported with a bad argument: Argument 'timeout' got value 'nan': a time must be a finite number of seconds, not nan or infinity.
    ...    Wait Until Process Run Completes    r1    poll_interval=1 s
