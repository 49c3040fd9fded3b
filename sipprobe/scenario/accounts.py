"""The scenario's accounts: ``account:`` (one) or ``accounts:`` (named, for two-leg calls
and the answer step), and the check that every account a step names exists.
"""

from __future__ import annotations

import re
from dataclasses import replace

import yaml

from sipprobe.scenario.model import AccountSpec, AnswerStep, CallStep, RegisterStep, Step
from sipprobe.scenario.reader import Reader, optional


def parse_account(
    reader: Reader, node: yaml.Node, default_domain: str, key: str = "account"
) -> AccountSpec:
    keys = ("user", "domain", "auth_user", "realm", "password_env", "password_file")
    entries = reader.mapping(node, key, keys)
    if "user" not in entries:
        raise reader.fail(node, f"{key}.user", "required key is missing")
    if "password_env" in entries and "password_file" in entries:
        raise reader.fail(node, key, "give password_env or password_file, not both")
    user = reader.text(entries["user"][1], f"{key}.user", numbers=True)
    return AccountSpec(
        user=user,
        domain=optional(
            entries, "domain", lambda n: reader.text(n, f"{key}.domain"), default_domain
        ),
        auth_user=optional(
            entries, "auth_user", lambda n: reader.text(n, f"{key}.auth_user", numbers=True), user
        ),
        realm=optional(entries, "realm", lambda n: reader.text(n, f"{key}.realm"), "*"),
        password_env=optional(
            entries, "password_env", lambda n: reader.text(n, f"{key}.password_env"), None
        ),
        password_file=optional(
            entries, "password_file", lambda n: reader.file_path(n, f"{key}.password_file"), None
        ),
    )


_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_ACCOUNTS = 4  # one call per pair of legs: the stack's 4 calls hold two two-leg calls


def parse_accounts(
    reader: Reader, node: yaml.Node, default_domain: str
) -> tuple[tuple[str, AccountSpec], ...]:
    """``accounts: {a: {user: ...}, b: {...}}``: named accounts, in file order."""
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise reader.fail(node, "accounts", "expected a mapping of account names to accounts")
    if len(node.value) > MAX_ACCOUNTS:
        raise reader.fail(node, "accounts", f"at most {MAX_ACCOUNTS} accounts")
    named: dict[str, AccountSpec] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        if not _ACCOUNT_NAME.fullmatch(name):
            raise reader.fail(
                key_node, f"accounts.{name[:40]}", "a name is 1-32 of A-Z a-z 0-9 _ -"
            )
        if name in named:
            raise reader.fail(key_node, f"accounts.{name}", "key given twice")
        named[name] = parse_account(reader, value_node, default_domain, f"accounts.{name}")
    return tuple(named.items())


def resolve_accounts(
    reader: Reader, node: yaml.Node, steps: tuple[Step, ...], names: tuple[str, ...]
) -> tuple[Step, ...]:
    """Every account a step names exists; a call ``to`` a named account is a two-leg call
    (from ``from``, else the first account) that the probe answers on that account."""
    resolved: list[Step] = []
    for index, (step, item) in enumerate(zip(steps, node.value, strict=True)):
        key = f"steps[{index}].{step.kind}"
        used = {
            "account": step.account if isinstance(step, RegisterStep | AnswerStep) else None,
            "from": step.caller if isinstance(step, CallStep) else None,
        }
        for name_key, name in used.items():
            if name is not None and name not in names:
                known = ", ".join(names) if names else "none: add accounts:"
                raise reader.fail(item, f"{key}.{name_key}", f"no account {name!r} ({known})")
        if isinstance(step, CallStep) and step.to in names:
            caller = step.caller or names[0]
            if step.to == caller:
                raise reader.fail(item, f"{key}.to", "a two-leg call goes to another account")
            if step.parallel != 1:
                raise reader.fail(item, f"{key}.parallel", "a two-leg call is one call")
            resolved.append(replace(step, caller=caller, callee=step.to))
        else:
            resolved.append(step)
    return tuple(resolved)
