checkpoint: yes
