"""The web shell: home page, language choice, navigation, security headers and error pages."""
