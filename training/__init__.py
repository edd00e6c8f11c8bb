"""Fine-tuning and evaluation of policy-sentence classifiers (see README.md, "Training")."""
