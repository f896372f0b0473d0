"""One module per ``ecgstream`` subcommand (``add_arguments`` + ``run``)."""
