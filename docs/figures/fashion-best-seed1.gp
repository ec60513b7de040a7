# drawn by dpmlp; run `gnuplot fashion-best-seed1.gp` in this directory to redraw
set terminal pngcairo size 1650,500 noenhanced font 'sans,10'
set output 'fashion-best-seed1.png'
set multiplot layout 1,3 title 'training curves: seed1.jsonl'
set xtics 20
set xlabel 'epoch'
set grid
set format y '%g'
set key below left Left reverse
set bmargin 7
set autoscale xfix
set arrow 1 from 120, graph 0 to 120, graph 1 nohead dt 2 lw 1.5 lc rgb '#444444' back
set ylabel 'loss (mean per sample)'
unset logscale y
set autoscale y
plot 'fashion-best-seed1.metrics.dat' using 1:2 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'train_loss', \
     'fashion-best-seed1.metrics.dat' using 1:3 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'test_loss', \
     'fashion-best-seed1.metrics.dat' using 1:4 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'avg_test_loss', \
     NaN with lines dt 2 lw 1.5 lc rgb '#444444' title 'best epoch 120 (lowest test_loss)', \
     'fashion-best-seed1.best.dat' using 1:3 with points pt 6 ps 2.2 lw 2 lc rgb '#444444' notitle
set ylabel 'accuracy (%)'
unset logscale y
set autoscale y
plot 'fashion-best-seed1.metrics.dat' using 1:5 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'train_accuracy', \
     'fashion-best-seed1.metrics.dat' using 1:6 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'test_accuracy', \
     'fashion-best-seed1.metrics.dat' using 1:7 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'avg_test_accuracy', \
     NaN with lines dt 2 lw 1.5 lc rgb '#444444' title 'best epoch 120 (lowest test_loss)'
set ylabel 'learning rate'
set logscale y
set autoscale y
plot 'fashion-best-seed1.metrics.dat' using 1:8 with linespoints pt 7 ps 0.6 pi 3 lw 2 title 'lr', \
     NaN with lines dt 2 lw 1.5 lc rgb '#444444' title 'best epoch 120 (lowest test_loss)'
unset multiplot
