"""Online applications for mediation (SPEC 8) and the evidence parties add from the portal."""
