"""The digital dossier (数字卷宗) and the printable documents."""
