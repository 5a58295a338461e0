"""Trust across companies: a verifiable Merkle log, decentralised identities, credentials, trades."""
