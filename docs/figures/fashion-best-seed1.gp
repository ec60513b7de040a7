# drawn by dpmlp; run `gnuplot fashion-best-seed1.gp` in this directory to redraw
set terminal pngcairo size 1200,500 noenhanced font 'sans,10'
set output 'fashion-best-seed1.png'
set multiplot layout 1,2 title 'training curves: seed1.jsonl'
set xtics 20
set xlabel 'epoch'
set grid
set key top right
set ylabel 'loss (mean per sample)'
unset logscale y
plot 'fashion-best-seed1.metrics.dat' using 1:2 with linespoints pt 7 ps 0.6 lw 2 title 'train_loss', \
     'fashion-best-seed1.metrics.dat' using 1:3 with linespoints pt 7 ps 0.6 lw 2 title 'test_loss', \
     'fashion-best-seed1.metrics.dat' using 1:4 with linespoints pt 7 ps 0.6 lw 2 title 'avg_test_loss'
set key bottom right
set ylabel 'accuracy (%)'
unset logscale y
plot 'fashion-best-seed1.metrics.dat' using 1:5 with linespoints pt 7 ps 0.6 lw 2 title 'train_accuracy', \
     'fashion-best-seed1.metrics.dat' using 1:6 with linespoints pt 7 ps 0.6 lw 2 title 'test_accuracy', \
     'fashion-best-seed1.metrics.dat' using 1:7 with linespoints pt 7 ps 0.6 lw 2 title 'avg_test_accuracy'
unset multiplot
