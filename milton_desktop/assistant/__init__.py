"""The writing assistant: a client for any OpenAI-compatible language model endpoint
(llama.cpp's server, Ollama, LM Studio, vLLM, or a remote service) and the prompts
that draft, rewrite and split posts in a voice.

It speaks HTTP and nothing else: no Qt, no storage, no keyring. Where the endpoint
and its key come from, and what becomes of a draft, is ``operations/drafting.py``'s
business. It sits beside ``publishers/`` in the layers, not inside: it is not a
platform, and the registry must not take it for one.
"""
