"""Deploy scripts and the local harness (S3 server, one-origin site, SAM stand-in base image)."""
