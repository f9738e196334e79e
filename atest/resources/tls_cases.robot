*** Settings ***
Documentation    Run by tls.robot in a child robot: two sessions with verify=False against
...              the emulator over TLS, several requests each. tls.robot counts the
...              warnings in this run's output.xml and console.

Library          ProcessRunLibrary    api_url=%{TLS_API_URL}    workspace_id=%{ATEST_WORKSPACE_ID}
...                  api_key=%{ATEST_API_KEY}    poll_interval=0.2 s


*** Test Cases ***
Several Requests In Each Of Two Unverified Sessions
    FOR    ${alias}    IN    first    second
        Create Control Room Session    ${alias}    verify=False
        ${id} =    Start Process Run    quick
        Get Process Run    ${id}
        Wait Until Process Run Completes    ${id}
        List Process Runs    quick    limit=2
        List Process Run Outputs    ${id}
    END
