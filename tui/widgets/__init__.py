"""One widget per pane. Each renders the plain data it is given; none reaches into training."""
