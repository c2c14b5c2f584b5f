"""What token and treasury calls move: ERC-20, ERC-721 and the project's Treasury.

ERC-20 and ERC-721 share `transferFrom` and `approve`; a token with decimals is read
as ERC-20, one without as an NFT (or an ERC-20 whose decimals are unknown, said so).
Moves into a configured treasury, timelock or governor are internal: flagged `info`.
"""

from __future__ import annotations

from agent.decode.calls import Call, Handler, Outcome
from agent.decode.flags import ether, money, nft_outflow, outflow
from agent.decode.models import ActionFlag, FlagKind
from agent.decode.values import UINT256_MAX


def _transfer(call: Call) -> Outcome:
    amount = money(call.ctx, call.target, call.uint("amount"))
    to = call.addr("to")
    summary = f"Transfer {amount.text} from {call.caller} to {call.who('to')}"
    flags = [outflow(amount, to, summary, internal=call.ctx.is_internal(to))]
    return Outcome(summary, flags, labels={"amount": amount.text})


def _transfer_from(call: Call) -> Outcome:
    source, to, raw = call.who("from"), call.addr("to"), call.uint("amount")
    if call.ctx.token(call.target) is None:
        return _nft_move(call, source, to, raw, note=" (an NFT, or a token of unknown decimals)")
    amount = money(call.ctx, call.target, raw)
    summary = f"Transfer {amount.text} from {source} to {call.who('to')}"
    flags = [outflow(amount, to, summary, internal=call.ctx.is_internal(to))]
    return Outcome(summary, flags, labels={"amount": amount.text})


def _nft_move(call: Call, source: str, to: str, token_id: int, note: str = "") -> Outcome:
    summary = f"Transfer {call.where} #{token_id}{note} from {source} to {call.ctx.label(to)}"
    return Outcome(summary, [nft_outflow(call.ctx, call.target, token_id, to)])


def _nft_transfer(call: Call) -> Outcome:
    return _nft_move(call, call.who("from"), call.addr("to"), call.uint("tokenId"))


def _approve(call: Call) -> Outcome:
    spender, raw = call.addr("spender"), call.uint("amount")
    if call.ctx.token(call.target) is None and raw != UINT256_MAX:
        summary = f"Approve {call.who('spender')} to take {call.where} #{raw} (or {raw} raw units)"
        return Outcome(summary, [nft_outflow(call.ctx, call.target, raw, spender)])
    amount = money(call.ctx, call.target, raw)
    summary = f"Allow {call.who('spender')} to spend {amount.text} of {call.caller}'s tokens"
    return Outcome(summary, [outflow(amount, spender, summary)], labels={"amount": amount.text})


def _increase_allowance(call: Call) -> Outcome:
    amount = money(call.ctx, call.target, call.uint("addedValue"))
    summary = f"Increase {call.who('spender')}'s allowance by {amount.text}"
    return Outcome(
        summary,
        [outflow(amount, call.addr("spender"), summary)],
        labels={"addedValue": amount.text},
    )


def _decrease_allowance(call: Call) -> Outcome:
    amount = money(call.ctx, call.target, call.uint("subtractedValue"))
    summary = f"Decrease {call.who('spender')}'s allowance by {amount.text}"
    return Outcome(summary, labels={"subtractedValue": amount.text})


def _mint(call: Call) -> Outcome:
    amount = money(call.ctx, call.target, call.uint("amount"))
    to = call.addr("to")
    summary = f"Mint {amount.text} (new supply) to {call.who('to')}"
    flags = [outflow(amount, to, summary, internal=call.ctx.is_internal(to))]
    return Outcome(summary, flags, labels={"amount": amount.text})


def _burn(call: Call) -> Outcome:
    amount = money(call.ctx, call.target, call.uint("amount"))
    holder = call.who("account") if "account" in call.args else call.caller
    return Outcome(f"Burn {amount.text} held by {holder}", labels={"amount": amount.text})


def _approval_for_all(call: Call) -> Outcome:
    """An operator for everything the caller holds: all its NFTs, or all its ENS names."""
    operator = call.addr("operator")
    if not call.args["approved"]:
        return Outcome(f"Revoke {call.who('operator')}'s approval for all on {call.where}")
    contract = call.ctx.contract(call.target)
    if contract is not None and contract.kind == "ens_registry":
        summary = f"Let {call.who('operator')} manage every ENS name {call.caller} owns"
        kind: FlagKind = "ownership_change"
    else:
        summary = f"Let {call.who('operator')} move all of {call.caller}'s {call.where} tokens"
        kind = "treasury_outflow"
    high = ActionFlag(kind=kind, severity="high", detail=summary, recipient=operator)
    return Outcome(summary, [high])


def _release(call: Call) -> Outcome:
    amount = money(call.ctx, call.addr("token"), call.uint("amount"))
    to = call.addr("to")
    summary = f"Release {amount.text} from {call.where} to {call.who('to')}"
    flags = [outflow(amount, to, summary, internal=call.ctx.is_internal(to))]
    return Outcome(summary, flags, labels={"amount": amount.text})


def _release_eth(call: Call) -> Outcome:
    amount = ether(call.uint("amount"))
    to = call.addr("to")
    summary = f"Release {amount.text} from {call.where} to {call.who('to')}"
    flags = [outflow(amount, to, summary, internal=call.ctx.is_internal(to))]
    return Outcome(summary, flags, labels={"amount": amount.text})


HANDLERS: dict[str, Handler] = {
    "token.transfer": _transfer,
    "token.transferFrom": _transfer_from,
    "token.approve": _approve,
    "token.increaseAllowance": _increase_allowance,
    "token.decreaseAllowance": _decrease_allowance,
    "token.mint": _mint,
    "token.burn": _burn,
    "token.burnFrom": _burn,
    "nft.transfer": _nft_transfer,
    "approvalForAll": _approval_for_all,
    "treasury.release": _release,
    "treasury.recover": _release,
    "treasury.releaseETH": _release_eth,
}
