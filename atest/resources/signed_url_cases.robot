*** Settings ***
Documentation    Run by secrets.robot in a child robot at TRACE, with --debugfile and
...              SecretCounter.py as a second listener, against SignedUrlServer.py: download
...              URLs whose credentials are a path segment, or a query parameter of no known
...              name that JSON writes with ``\\/``. secrets.robot then counts the fresh
...              credentials in every output of this run.

Library          OperatingSystem
Library          ProcessRunLibrary    api_url=%{SIGNED_URL_API_URL=http://127.0.0.1:9/api/v1}
...                  workspace_id=%{SIGNED_URL_WORKSPACE=ws-signed}    api_key=not-a-real-key    max_retries=0


*** Test Cases ***
Read A Work Item Whose Download URLs Carry Credentials In Their Path And Query
    ${item} =    Get Work Item    i1
    Log    ${item}
    Log    ${item.files}[0][download][url]
    Log    ${item.files}[1][download][url]    level=WARN
    Should Be Equal    ${item.files}[0][name]    a.txt

Download An Artifact Whose URL Has A Token In Its Path
    ${paths} =    Download Step Run Artifacts    s1    ${OUTPUT DIR}${/}signed-url-artifacts
    ${content} =    Get File    ${paths}[0]
    Should Be Equal    ${content}    downloaded content\n
