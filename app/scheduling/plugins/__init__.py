"""Filter, score and placement-check plugins, one module each; see ``app.scheduling.registry``."""
