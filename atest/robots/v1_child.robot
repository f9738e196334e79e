*** Settings ***
Documentation    A child robot that uses ProcessRunLibrary itself, through the emulator's
...              /api/v1 (RC_API_URL_V1), with a key its parent gave it (in a file, so that
...              the parent's TRACE log never holds it). It writes what it saw into its
...              artifacts.

Library          OperatingSystem
Library          ProcessRunLibrary

Suite Setup      Create Control Room Session    parent    api_url=%{RC_API_URL_V1}
...                  workspace_id=%{RC_WORKSPACE_ID}    api_key=${KEY}


*** Variables ***
${KEY}    ${{pathlib.Path(os.environ["CHILD_API_KEY_FILE"]).read_text(encoding="utf-8")}}


*** Tasks ***
Look At My Own Run
    ${state} =    Get Process Run State    %{RC_PROCESS_RUN_ID}
    ${step runs} =    List Step Runs    %{RC_PROCESS_RUN_ID}
    ${item} =    Get Work Item    %{RC_WORKITEM_ID}
    ${seen} =    Catenate    ${state} ${step runs}[0][id] ${item.state} ${item.payload}[question]
    Create File    %{ROBOT_ARTIFACTS}/seen.txt    ${seen}
