"""Use cases of the server. Routes call these; these call the models. No HTTP here."""
