"""The GraphQL documents Steward sends to the hub (depth ≤ 5, as the hub requires)."""

SPACE = """
query Space($id: String!) {
  space(id: $id) {
    id name network symbol verified flagged proposalsCount
  }
}
"""

_PROPOSAL_FIELDS = """
    id author created updated space { id } type title body discussion choices
    start end quorum snapshot state link scores scores_state scores_total votes flagged
"""

PROPOSALS_SINCE = (
    """
query Proposals($space: String!, $first: Int!, $skip: Int!, $since: Int!) {
  proposals(
    first: $first, skip: $skip, orderBy: "created", orderDirection: asc,
    where: { space: $space, created_gte: $since }
  ) {"""
    + _PROPOSAL_FIELDS
    + """  }
}
"""
)

PROPOSALS_BY_ID = (
    """
query ProposalsById($ids: [String]!, $first: Int!) {
  proposals(first: $first, skip: 0, where: { id_in: $ids }) {"""
    + _PROPOSAL_FIELDS
    + """  }
}
"""
)

VOTES_OF_PROPOSALS = """
query ProposalVotes($ids: [String]!, $first: Int!, $skip: Int!, $since: Int!) {
  votes(
    first: $first, skip: $skip, orderBy: "created", orderDirection: asc,
    where: { proposal_in: $ids, created_gte: $since }
  ) {
    id voter created choice vp reason proposal { id }
  }
}
"""

VOTE_BY_VOTER = """
query VoteByVoter($proposal: String!, $voter: String!) {
  votes(
    first: 1, skip: 0, orderBy: "created", orderDirection: desc,
    where: { proposal: $proposal, voter: $voter }
  ) {
    id voter created choice vp reason
  }
}
"""
