"""roomcall: small-group video calls with a self-hostable, Qiniu RTC compatible room server."""

__version__ = "0.1.0"
