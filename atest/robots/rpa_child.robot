*** Comments ***
# rpaframework is not in the main environment (nox -s rpaframework has it): RobotCode cannot load it.
# robotcode: ignore[DataError, KeywordNotFound]


*** Settings ***
Documentation    A child robot that reads and writes its work items with rpaframework's
...              RPA.Robocorp.WorkItems, unmodified, as in Control Room. The emulator runs
...              one of its tasks with `robot --task <name>`.

Library          OperatingSystem
Library          RPA.Robocorp.WorkItems


*** Tasks ***
Echo Orders
    For Each Input Work Item    Echo One Order

Fail Orders
    For Each Input Work Item    Fail One Order


*** Keywords ***
Echo One Order
    ${order} =    Get Work Item Payload
    ${order}[steps] =    Evaluate    $order.get("steps", 0) + 1
    ${names} =    List Work Item Files
    ${paths} =    Create List
    FOR    ${name}    IN    @{names}
        ${path} =    Get Work Item File    ${name}    %{TEMPDIR=/tmp}/rpa-${name}
        Append To List    ${paths}    ${path}
    END
    Create Output Work Item    variables=${order}    files=${paths}    save=True
    Log To Console    Echoed ${order}
    Release Input Work Item    DONE

Fail One Order
    ${order} =    Get Work Item Payload
    Release Input Work Item    FAILED    exception_type=BUSINESS    code=${order}[code]
    ...    message=${order}[message]

Append To List
    [Arguments]    ${list}    ${value}
    Evaluate    $list.append($value)
