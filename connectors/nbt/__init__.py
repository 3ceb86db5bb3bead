"""The National Bank of Tajikistan's official daily exchange rates: the XML feed's client
(`client.py`) and its strict parser (`feed.py`)."""
