"""Alif Bank: OBP with Alif's conventions, expressed as mapping on the shared OBP client."""

from connectors.alif.constants import ALIF_BANK_ID
from connectors.alif.mapping import AlifMapper
from connectors.obp.client import ObpClient
from connectors.obp.connector import DEFAULT_PAGE_SIZE, ObpConnector


def alif_connector(client: ObpClient, *, page_size: int = DEFAULT_PAGE_SIZE) -> ObpConnector:
    """The connector the sync engine uses for an Alif connection."""
    return ObpConnector(client, AlifMapper(), ALIF_BANK_ID, page_size=page_size)


__all__ = ["ALIF_BANK_ID", "AlifMapper", "alif_connector"]
