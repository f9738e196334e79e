*** Settings ***
Documentation    Run by work_items.robot in a child robot at TRACE: every path on which a
...              presigned upload URL, its form fields or a download URL passes through the
...              library. work_items.robot then looks for them in this run's output.xml,
...              log.html and console: the URLs and fields change on every call, so they
...              are found by their shape (the emulator signs with 64 hex digits) and by
...              the emulator's paths for uploads and downloads.

Library          OperatingSystem
Library          ProcessRunLibrary    api_url=%{WORK_ITEMS_API_URL}
...                  workspace_id=%{ATEST_WORKSPACE_ID}    api_key=%{ATEST_API_KEY}


*** Test Cases ***
Create Input Work Item With A File
    Create File    ${OUTPUT DIR}/child-invoice.txt    Invoice 7
    ${id} =    Create Input Work Item    quick    {"order": 7}    files=${OUTPUT DIR}/child-invoice.txt
    Set Suite Variable    ${ID}    ${id}

Read It Back With Its Download URL
    ${item} =    Get Work Item    ${ID}
    Log    ${item}
    Log    ${item.files}[0][download][url]
    Should Contain    ${item.files}[0][download][url]    signature=${EMPTY}

List It
    ${items} =    List Work Items    process_id=quick    state=new
    Log Many    @{items}

The Scan Finds What Is Not Masked
    [Documentation]    The control: a value of the shape the scan looks for, logged by
    ...    Robot itself; the scan must find exactly this one in output.xml.
    Log    ${{"ab" * 32}}
