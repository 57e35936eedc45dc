"""The organizations.posts read-model: posts, holders, commitments and reviews."""
