"""The assistant: question -> retrieved passages -> answer with citations."""
