"""What curators use to improve the knowledge: the questions the bot missed and the facts users voted down."""
