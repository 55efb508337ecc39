"""The implementations of domain/ports.py: the only modules that import a vendor SDK
(stripe, mailjet_rest, weasyprint, arq, redis, prometheus_client, httpx). bootstrap.py picks them
from the settings; the rest of the domain sees only the ports."""
