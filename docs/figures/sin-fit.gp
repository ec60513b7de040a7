# drawn by dpmlp; run `gnuplot sin-fit.gp` in this directory to redraw
set terminal pngcairo size 1000,1320 noenhanced font 'sans,10'
set output 'sin-fit.png'
set multiplot title '1-60-1 sigmoid (k=10) on sin (test): the fit, and each first-layer neuron''s effective interval (|k z| < 4)'
set lmargin at screen 0.12
set rmargin at screen 0.85
set tmargin at screen 0.96969697
set bmargin at screen 0.681818182
set xrange [-3.45575202:3.45575202]
set yrange [-1.16007694:1.30024271]
set ylabel 'output 0'
set grid
set key top left opaque
plot 'sin-fit.data.dat' using 1:2 with points pt 7 ps 0.7 lc rgb '#6baed6' title 'data (sin (test))', \
     'sin-fit.curve.dat' using 1:2 with lines lw 1.5 lc rgb '#c00000' title 'fit (output 0)'
set lmargin at screen 0.12
set rmargin at screen 0.85
set tmargin at screen 0.632575758
set bmargin at screen 0.0416666667
unset key
unset grid
set grid xtics
set xlabel 'x (raw input)'
unset ylabel
set yrange [60.5:0.5]
set ytics scale 0 font ',8'
set title '60 first-layer neurons, sorted by centre c = -b/w: effective interval (line) and centre (dot)' font ',9'
set palette defined (0 '#c6dbef', 1 '#08306b')
set logscale cb
set cbrange [8.49183364e-06:0.0849183364]
set format cb '%g'
set cblabel 'd_loss: loss increase when ablated (log)'
plot 'sin-fit.intervals.dat' using 9:8:($10-$9):(0):($7 > 8.49183364e-06 ? $7 : 8.49183364e-06):ytic(int($8 - 1) % 1 == 0 ? sprintf('%s  c=%.2f', strcol(11), $2) : '') with vectors nohead lw 2.5 lc palette, \
     'sin-fit.intervals.dat' using 2:8:($7 > 8.49183364e-06 ? $7 : 8.49183364e-06) with points pt 7 ps 0.6 lc palette
unset multiplot
